import cliProgress from "cli-progress";

/**
 * Progress on stderr, so stdout stays the command's answer. In a terminal, a
 * live bar; otherwise (a pipe, a CI log, a test) a plain line when the status
 * changes or another tenth is done, or nothing with `quiet`.
 */
export type Progress = {
  update(fraction: number, status: string, message?: string | null): void;
  stop(): void;
};

export function createProgress(stderr: NodeJS.WriteStream, label: string, options: { quiet?: boolean } = {}): Progress {
  if (stderr.isTTY) return barProgress(stderr, label);
  if (options.quiet) return { update() {}, stop() {} };
  return lineProgress(stderr, label);
}

const STEPS = 1000;

function barProgress(stderr: NodeJS.WriteStream, label: string): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format: `${label} {bar} {percentage}% | {status}{message}`,
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let isStarted = false;
  return {
    update(fraction, status, message) {
      const payload = { status, message: message ? ` ${message}` : "" };
      const value = Math.round(Math.min(1, Math.max(0, fraction)) * STEPS);
      if (!isStarted) {
        bar.start(STEPS, value, payload);
        isStarted = true;
      } else {
        bar.update(value, payload);
      }
    },
    stop() {
      if (isStarted) bar.stop();
      isStarted = false;
    },
  };
}

function lineProgress(stderr: NodeJS.WriteStream, label: string): Progress {
  let last: { status: string; tenth: number } | null = null;
  return {
    update(fraction, status, message) {
      const tenth = Math.floor(Math.min(1, Math.max(0, fraction)) * 10);
      if (last && last.status === status && last.tenth === tenth) return;
      last = { status, tenth };
      stderr.write(`${label} ${status} ${Math.round(fraction * 100)}%${message ? ` ${message}` : ""}\n`);
    },
    stop() {},
  };
}
