import { CompiledQuery, createQueryId, type Compilable, type QueryId } from 'kysely';

// Stands in for a parameter while the query is built; never a value a caller could store.
const MARK = '\u0000gatehouse-parameter:';

/** Stands in for the named value while a prepared query is built (see `prepareQuery`). */
export type Param<Names extends string> = <T>(name: Names) => T;

/**
 * One run of a prepared query: the text and query node compiled once, this run's parameters.
 * What `CompiledQuery.raw` gives, without the four objects it builds per run (a fresh
 * `RawNode` and its arrays, a query id): the session read of every authenticated request goes
 * through here (issue 21, BENCHMARKS.md). Kysely (the Postgres path, and SQLite inside a
 * transaction) reads it as the `CompiledQuery` it is.
 */
class BoundQuery<Row> implements CompiledQuery<Row> {
  readonly #template: CompiledQuery;
  readonly parameters: readonly unknown[];
  #queryId: QueryId | undefined;

  constructor(template: CompiledQuery, parameters: readonly unknown[]) {
    this.#template = template;
    this.parameters = parameters;
  }

  get sql(): string {
    return this.#template.sql;
  }

  get query() {
    return this.#template.query;
  }

  // Kysely's plugins key a run's state by its id: one per run, made only when asked for.
  get queryId(): QueryId {
    return (this.#queryId ??= createQueryId());
  }
}

/** A prepared query: binds the named values and gives the statement to run. */
export type PreparedQuery<Names extends string, Row> = (
  values: Readonly<Record<Names, unknown>>,
) => CompiledQuery<Row>;

/**
 * A query that Kysely builds and compiles once; each run only binds its values. Kysely
 * otherwise rebuilds and recompiles the query object on every call, which cost more than
 * running the statement (a password grant spent ~0.6 ms of its event-loop time building six
 * queries, BENCHMARKS.md). `build` gets `param(name)` for each value that varies; whatever
 * else it puts in the query is fixed once. The result makes the statement to run.
 *
 * Curried, `prepareQuery<'id' | 'now'>()((param) => db.selectFrom(...)...)`, so the caller
 * names the parameters and TypeScript still infers the row type from the builder: rows come
 * back typed as Kysely would type `execute()`, with no cast.
 */
export function prepareQuery<Names extends string = never>() {
  return <Row>(build: (param: Param<Names>) => Compilable<Row>): PreparedQuery<Names, Row> => {
    const compiled = build((name) => `${MARK}${name}` as never).compile();
    const slots: Array<[index: number, name: Names]> = [];
    compiled.parameters.forEach((value, index) => {
      if (typeof value === 'string' && value.startsWith(MARK)) {
        slots.push([index, value.slice(MARK.length) as Names]);
      }
    });
    // Run as raw SQL, as before: the node is the text's, not the builder's tree.
    const template = CompiledQuery.raw(compiled.sql, []);
    return (values) => {
      const parameters = compiled.parameters.slice();
      for (const [index, name] of slots) parameters[index] = values[name];
      // The row type is `compiled`'s: BoundQuery<Row> is typed by the builder's result.
      return new BoundQuery<Row>(template, parameters);
    };
  };
}
