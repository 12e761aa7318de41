// Where a profile's samples go, by function (issue 21): self time of a `--cpu-prof` profile, or
// self bytes of a `--heap-prof` one, as shares of the total.
// `node --import tsx bench/profile-top.ts <file.cpuprofile|file.heapprofile> [rows]`.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

// `--inclusive MATCH`: instead, each function whose place contains MATCH (e.g. `src/`) with
// everything it called: where a request's cost starts, not the leaf that pays it.
const args = process.argv.slice(2);
const at = args.indexOf('--inclusive');
const inclusive = at === -1 ? undefined : args.splice(at, 2)[1];
const [file, rows = '30'] = args;
if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile|file.heapprofile> [rows]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode };
const totals = new Map<string, number>();

function place({ functionName, url, lineNumber }: CallFrame): string {
  const where = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '');
  const short = where.replace(/^.*\/(src|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
}
const add = (key: string, amount: number) => totals.set(key, (totals.get(key) ?? 0) + amount);

let total = 0;
// Charges `amount` to the leaf, or with --inclusive to each matching caller on the stack once.
function charge(stack: string[], amount: number) {
  total += amount;
  if (inclusive === undefined) return add(stack.at(-1)!, amount);
  for (const key of new Set(stack.filter((p) => p.includes(inclusive)))) add(key, amount);
}
if ('head' in profile) {
  const walk = (node: HeapNode, stack: string[]) => {
    const here = [...stack, place(node.callFrame)];
    charge(here, node.selfSize);
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, []);
} else {
  const parent = new Map<number, number>();
  for (const node of profile.nodes as Array<{ id: number; children?: number[] }>) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const frames = new Map(profile.nodes.map((node) => [node.id, place(node.callFrame)]));
  const stackOf = (id: number | undefined): string[] =>
    id === undefined ? [] : [...stackOf(parent.get(id)), frames.get(id)!];
  // A sample's time is the delta to the next sample. Idle is the event loop waiting: shares
  // are of the busy samples.
  profile.samples.forEach((id, i) => {
    if (frames.get(id) !== '(idle)') charge(stackOf(id), profile.timeDeltas[i + 1] ?? 0);
  });
}

const unit = 'head' in profile ? 'KB' : 'ms';
const scale = 'head' in profile ? 1024 : 1000;
console.log(`total ${(total / scale).toFixed(0)} ${unit}`);
for (const [key, amount] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(rows))) {
  const share = ((100 * amount) / total).toFixed(1).padStart(5);
  console.log(`${share}%  ${(amount / scale).toFixed(1).padStart(9)} ${unit}  ${key}`);
}
