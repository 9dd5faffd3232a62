import dgram from 'node:dgram';
import fs from 'node:fs';
import type { LogTarget } from '../config/config.types.ts';
import { FACILITIES, frameRfc3164, SEVERITIES } from './format.ts';

/**
 * Writes log lines to the configured targets without blocking the event loop: lines to a file
 * descriptor are batched and written once per loop turn; syslog targets get one UDP datagram per
 * line. A line that cannot be written is counted as dropped (as HAProxy does), never retried.
 */
export class Logger {
  private readonly targets: readonly LogTarget[];
  private readonly batch = new Map<number, string[]>();
  private scheduled = false;
  private udp: dgram.Socket | null = null;
  private readonly tag: string;
  dropped = 0;

  constructor(targets: readonly LogTarget[], tag = 'switchyard') {
    this.targets = targets;
    this.tag = tag;
    // one UDP socket per logger, opened at start (not on the first line): a steady resource
    const udp = targets.find((t) => typeof t.target === 'object');
    if (udp && typeof udp.target === 'object') this.openUdp(udp.target.host);
  }

  private openUdp(host: string): dgram.Socket {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('error', () => this.dropped++);
    // bind now, so that the socket exists from start-up rather than appearing with the first line
    s.bind(0, () => s.unref());
    s.unref();
    this.udp = s;
    return s;
  }

  get enabled(): boolean {
    return this.targets.length > 0;
  }

  write(msg: string, severity = 'info'): void {
    const sev = SEVERITIES[severity] ?? 6;
    for (const t of this.targets) {
      if (t.level !== undefined && sev > (SEVERITIES[t.level] ?? 7)) continue;
      const fac = FACILITIES[t.facility] ?? 16;
      const line = t.format === 'raw' ? msg : frameRfc3164(msg, fac, sev, this.tag, process.pid, new Date());
      if (t.target === 'stdout' || t.target === 'stderr') this.queue(t.target === 'stdout' ? 1 : 2, line);
      else this.send(t.target.host, t.target.port, `${line}\n`); // HAProxy ends each datagram with LF
    }
  }

  private queue(fd: number, line: string): void {
    let lines = this.batch.get(fd);
    if (!lines) {
      lines = [];
      this.batch.set(fd, lines);
    }
    lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Write what is batched now (also called at exit so no line is lost). */
  readonly flush = (): void => {
    this.scheduled = false;
    for (const [fd, lines] of this.batch) {
      if (lines.length === 0) continue;
      const text = `${lines.join('\n')}\n`;
      lines.length = 0;
      try {
        fs.writeSync(fd, text);
      } catch {
        this.dropped++;
      }
    }
  };

  private send(host: string, port: number, line: string): void {
    const udp = this.udp ?? this.openUdp(host);
    udp.send(line, port, host, (err) => {
      if (err) this.dropped++;
    });
  }

  close(): void {
    this.flush();
    this.udp?.close();
    this.udp = null;
  }
}
