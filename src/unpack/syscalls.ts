// lsetxattr(2) and mknodat(2) for the unpacker, without a process per entry.
//
// Node has neither system call. Spawning setfattr(1) or mknod(1) per entry cost ~10 ms each: a
// 5 KB layer of 2,000 xattrs took 20 s, 5,000 FIFOs 55 s (issue 19 item 6). So one helper
// process per unpack does them all: `perl`, which every Debian and Ubuntu system has (perl-base
// is Essential) and whose builtin `syscall` makes the raw system call. A request is one line
// `OP<TAB>LEN<TAB>LEN…` followed by that many raw bytes per field (paths and values are binary
// safe); the answer is one line, the errno (0: done). A native addon would need a compiler at
// `npm ci` (and install scripts, which npm can be told to refuse); perl needs nothing.
//
// The helper is started on first use and ended by close(). Without perl, or on an architecture
// whose system call numbers are not listed here, `available` is false and callers note what
// they could not apply.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { constants } from "node:os";

/**
 * Linux system call numbers: x86-64 from arch/x86/entry/syscalls/syscall_64.tbl, arm64 and
 * riscv64 from include/uapi/asm-generic/unistd.h. Only these: a wrong number here would make
 * another system call with a path for an argument, so other architectures get "not supported"
 * (the entries are noted, not applied) rather than a guess.
 */
const SYSCALLS: Readonly<Record<string, { lsetxattr: number; mknodat: number }>> = {
  x64: { lsetxattr: 189, mknodat: 259 },
  arm64: { lsetxattr: 6, mknodat: 33 },
  riscv64: { lsetxattr: 6, mknodat: 33 },
};

const SCRIPT = String.raw`
use strict;
$| = 1;
binmode STDIN;
binmode STDOUT;
my ($SETX, $MKNOD) = @ARGV;
while (defined(my $line = <STDIN>)) {
  chomp $line;
  my ($op, @lens) = split /\t/, $line;
  my @f;
  for my $n (@lens) {
    my $b = '';
    while (length($b) < $n) {
      my $r = read(STDIN, $b, $n - length($b), length($b));
      exit 1 unless $r;
    }
    push @f, $b;
  }
  my $rc = -1;
  $! = 22;
  if ($op eq 'x' && @f == 3) {
    $rc = syscall($SETX + 0, $f[0], $f[1], $f[2], length($f[2]), 0);
  } elsif ($op eq 'n' && @f == 3) {
    $rc = syscall($MKNOD + 0, -100, $f[0], $f[1] + 0, $f[2] + 0);
  }
  print(($rc == -1 ? ($! + 0) : 0), "\n");
}
`;

/** errno number → its name (EPERM, ENOTSUP…), for messages as Node writes them. */
const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([k, v]) => [v as number, k]),
);

/** An errno answered by the helper. */
export class SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(call: string, errno: number) {
    const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
    super(`${code}: ${call} failed`);
    this.code = code;
    this.errno = errno;
  }
}

/** Linux's new_encode_dev (include/linux/kdev_t.h): what mknodat's `dev` argument carries. */
export function encodeDev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

export class Syscalls {
  readonly #numbers = SYSCALLS[process.arch];
  #child: ChildProcessWithoutNullStreams | undefined;
  #failed = false;
  #buf = "";
  #waiting: Array<(line: string | undefined) => void> = [];

  /** Whether the system calls can be made here (Linux, a known arch, perl present). */
  get available(): boolean {
    return process.platform === "linux" && this.#numbers !== undefined && !this.#failed;
  }

  /** Why they cannot, for notes. */
  get unavailableReason(): string {
    if (process.platform !== "linux" || this.#numbers === undefined)
      return `not supported on ${process.platform}/${process.arch}`;
    return "perl is not installed";
  }

  #start(): ChildProcessWithoutNullStreams | undefined {
    if (this.#child !== undefined) return this.#child;
    const n = this.#numbers;
    if (n === undefined || this.#failed) return undefined;
    const child = spawn("perl", ["-e", SCRIPT, String(n.lsetxattr), String(n.mknodat)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.on("error", () => {
      this.#failed = true;
      this.#flush();
    });
    child.on("exit", () => {
      this.#child = undefined;
      this.#flush();
    });
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (d: string) => {
      this.#buf += d;
      for (;;) {
        const i = this.#buf.indexOf("\n");
        if (i === -1) break;
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        this.#waiting.shift()?.(line);
      }
    });
    child.stderr.resume();
    child.stdin.on("error", () => {});
    this.#child = child;
    return child;
  }

  #flush(): void {
    for (const w of this.#waiting.splice(0)) w(undefined);
  }

  async #call(op: string, call: string, fields: readonly Buffer[]): Promise<void> {
    const child = this.#start();
    if (child === undefined) throw new SyscallError(call, constants.errno.ENOSYS);
    const answer = new Promise<string | undefined>((ok) => this.#waiting.push(ok));
    child.stdin.write(
      Buffer.concat([Buffer.from(`${op}\t${fields.map((f) => f.length).join("\t")}\n`), ...fields]),
    );
    const line = await answer;
    if (line === undefined) {
      this.#failed = true;
      throw new SyscallError(call, constants.errno.ENOSYS);
    }
    const errno = Number(line);
    if (errno !== 0) throw new SyscallError(call, Number.isSafeInteger(errno) ? errno : 5);
  }

  /** lsetxattr(path, name, value, size, 0): never follows a symlink at `path`. */
  lsetxattr(path: string, name: string, value: Buffer): Promise<void> {
    return this.#call("x", "lsetxattr", [Buffer.from(path), Buffer.from(name), value]);
  }

  /** mknodat(AT_FDCWD, path, mode, dev): `mode` includes the file type (S_IFIFO, S_IFCHR…). */
  mknod(path: string, mode: number, dev = 0): Promise<void> {
    return this.#call("n", "mknodat", [
      Buffer.from(path),
      Buffer.from(String(mode)),
      Buffer.from(String(dev)),
    ]);
  }

  /** Ends the helper. */
  close(): void {
    const c = this.#child;
    this.#child = undefined;
    if (c !== undefined) {
      c.stdin.end();
      c.kill();
    }
  }
}
