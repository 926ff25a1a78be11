/** The fuzzer's side of the good client: forks good-client-main.ts and keeps its latest report. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BrokerPorts } from './broker-process';
import type { GoodReport } from './good-client';

export type ToGoodClient = { type: 'finish'; graceMs: number };
export type FromGoodClient =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'report'; report: GoodReport }
  | { type: 'final'; report: GoodReport };

const mainFile = fileURLToPath(new URL('./good-client-main.ts', import.meta.url));

export class GoodClientProcess {
  latest: GoodReport | null = null;
  /** Set if the process exits before its final report. */
  died: string | null = null;

  private constructor(private readonly child: ChildProcess, private readonly final: Promise<GoodReport>) {}

  /** Forks the client and resolves once its sessions are open and subscribed. */
  static start(ports: BrokerPorts): Promise<GoodClientProcess> {
    const child = fork(mainFile, [JSON.stringify(ports)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      let resolveFinal!: (report: GoodReport) => void;
      let rejectFinal!: (error: Error) => void;
      const final = new Promise<GoodReport>((res, rej) => { resolveFinal = res; rejectFinal = rej; });
      final.catch(() => undefined);
      const handle = new GoodClientProcess(child, final);
      child.on('message', (message: FromGoodClient) => {
        switch (message.type) {
          case 'ready': resolve(handle); break;
          case 'failed': reject(new Error(`good client could not start: ${message.error}`)); break;
          case 'report': handle.latest = message.report; break;
          case 'final': handle.latest = message.report; resolveFinal(message.report); break;
        }
      });
      child.once('exit', (code, signal) => {
        handle.died = `good client exited (${signal ?? code}) before its final report`;
        rejectFinal(new Error(handle.died));
        reject(new Error(handle.died));
      });
    });
  }

  /** Asks for the final report (after up to `graceMs` of waiting for deliveries). */
  finish(graceMs: number): Promise<GoodReport> {
    if (this.child.connected) this.child.send({ type: 'finish', graceMs } satisfies ToGoodClient);
    return this.final;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
