import type { FastifyBaseLogger } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Record<string, unknown>;
/** Fastify's logger is pino, which has isLevelEnabled. */
type Pino = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

/**
 * A request's logger that builds its pino child (the request id bound) only when a line is
 * written at an enabled level. Fastify makes a pino child per request, most of which never log
 * at the `warn` level production runs: that child was ~1.6% of a `GET /users/me/`'s CPU and
 * part of its garbage (issue 21, BENCHMARKS.md). Lines, fields and redaction are pino's own.
 */
class LazyRequestLogger {
  private real: Pino | undefined;
  constructor(
    private readonly parent: Pino,
    private readonly bindings: Bindings,
    private readonly options: object,
  ) {}

  logger(): Pino {
    return (this.real ??= this.parent.child(this.bindings, this.options) as Pino);
  }
  get level(): string {
    return this.real ? this.real.level : this.parent.level;
  }
  set level(level: string) {
    this.logger().level = level;
  }
  isLevelEnabled(level: string): boolean {
    return (this.real ?? this.parent).isLevelEnabled(level);
  }
  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }
  silent(): void {}
}

for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as Level[]) {
  Object.defineProperty(LazyRequestLogger.prototype, level, {
    value(this: LazyRequestLogger, ...args: unknown[]) {
      if (!this.isLevelEnabled(level)) return;
      (this.logger() as unknown as Record<Level, (...a: unknown[]) => void>)[level](...args);
    },
  });
}

/** Fastify's `childLoggerFactory`: the lazy logger above instead of a pino child per request. */
export function lazyChildLogger(
  this: unknown,
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: object,
): FastifyBaseLogger {
  // Logging off: Fastify's null logger, whose children are itself.
  if (typeof (logger as Partial<Pino>).isLevelEnabled !== 'function') return logger;
  return new LazyRequestLogger(logger as Pino, bindings, options) as unknown as FastifyBaseLogger;
}
