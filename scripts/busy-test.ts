// The suite on a busy machine, as contributors' laptops and shared CI runners are: starts CPU-bound
// processes (two by default), runs `npm test` beside them, then stops them.
//   npm run test:busy                                    the whole suite beside two busy loops
//   npm run test:busy -- --burners 4                     beside four
//   npm run test:busy -- test/integration/completion.test.ts ...   only these test files
// Exits with the suite's exit code. Run it on a machine otherwise idle: the point is a known load.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';

function parseArgs(argv: string[]): { burners: number; files: string[] } {
  let burners = 2;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--burners') {
      burners = Number(argv[++i]);
      if (!Number.isInteger(burners) || burners < 0) throw new Error(`--burners ${argv[i]}: expected a whole number`);
    } else if (arg.startsWith('-')) {
      throw new Error(`unknown option ${arg}: expected --burners N, then test files (default: the whole npm test)`);
    } else {
      files.push(arg);
    }
  }
  return { burners, files };
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`busy-test: ${(e as Error).message}`);
  process.exit(2);
}

// A busy loop each: one core's worth of work, as `yes > /dev/null` is, with nothing to install.
const burners: ChildProcess[] = Array.from({ length: args.burners }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const stopBurners = () => {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
};
process.on('exit', stopBurners);

const [command, commandArgs] = args.files.length > 0
  ? [process.execPath, ['--test', '--test-concurrency=1', ...args.files]]
  : ['npm', ['test']];
const t0 = Date.now();
console.log(`busy-test: ${args.burners} CPU-bound processes (pids ${burners.map((b) => b.pid).join(', ')}) beside: ${args.files.length > 0 ? `node --test ${args.files.join(' ')}` : 'npm test'}; load ${load()}`);
const suite = spawn(command, commandArgs, { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    suite.kill(signal);
  });
}
suite.on('close', (code, signal) => {
  const loadAtEnd = load();
  stopBurners();
  console.log(`busy-test: ${code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`} in ${Math.round((Date.now() - t0) / 1000)}s beside ${args.burners} busy processes; load at the end ${loadAtEnd}`);
  process.exit(code ?? 1);
});
