import type { Logger } from 'pino';
import type { Notifications } from '../../commands/checkout/deadlineWorker.js';
import { delay } from '../../projections/delay.js';

/** How long after its connection ended a listener listens again, unless told otherwise. */
const LISTEN_AGAIN_MS = 1000;

export interface ChannelHandlers {
  onNotification(payload: string): void;
  /** Told once it listens, and as soon as its connection ends or it stops. */
  onHearingChanged(): void;
}

/**
 * LISTENs on one channel for as long as it runs, and listens again on a new connection a little
 * after one ends. What depends on hearing every notification (a cache dropped on one, say) is told
 * each time it starts and stops hearing: what it missed in between it never hears of.
 */
export class ChannelListener {
  private stopping = new AbortController();
  private running: Promise<void> | undefined;
  private listening = false;

  constructor(
    private readonly notifications: Notifications,
    private readonly channel: string,
    private readonly handlers: ChannelHandlers,
    private readonly logger: Logger,
    private readonly listenAgainMs = LISTEN_AGAIN_MS,
  ) {}

  get hearing(): boolean {
    return this.listening;
  }

  start(): void {
    if (this.running) return;
    this.stopping = new AbortController();
    this.running = this.listenWhileRunning(this.stopping.signal);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    this.running = undefined;
  }

  private async listenWhileRunning(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const lost = new AbortController();
      try {
        const listening = await this.notifications.listen(
          this.channel,
          (payload) => this.handlers.onNotification(payload),
          () => {
            this.hear(false);
            lost.abort();
          },
        );
        if (!lost.signal.aborted) this.hear(true);
        await untilAborted(AbortSignal.any([signal, lost.signal]));
        this.hear(false);
        await listening.close().catch(() => undefined);
      } catch (error) {
        this.logger.warn({ err: error, channel: this.channel }, 'cannot listen; listening again soon');
      }
      this.hear(false);
      await delay(this.listenAgainMs, signal);
    }
  }

  private hear(hearing: boolean): void {
    if (this.listening === hearing) return;
    this.listening = hearing;
    this.handlers.onHearingChanged();
  }
}

const untilAborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
