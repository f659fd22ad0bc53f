import pg from 'pg';
import type { Logger } from 'pino';
import type { Notifications } from '../../commands/checkout/deadlineWorker.js';

/**
 * LISTEN on a connection of its own. A connection that ends stops the notifications, not the
 * listener: it is told through `onLost`, and is given a new connection when it listens again.
 */
export function postgresNotifications(connection: pg.ClientConfig, logger: Logger): Notifications {
  return {
    listen: async (channel, onNotification, onLost) => {
      const client = new pg.Client(connection);
      let closing = false;
      client.on('error', (error) => logger.warn({ err: error, channel }, 'notification connection failed'));
      client.on('end', () => {
        if (!closing) onLost?.();
      });
      client.on('notification', (message) => {
        if (message.channel === channel) onNotification(message.payload ?? '');
      });
      await client.connect();
      try {
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (error) {
        closing = true;
        await client.end();
        throw error;
      }
      return {
        close: () => {
          closing = true;
          return client.end();
        },
      };
    },
  };
}
