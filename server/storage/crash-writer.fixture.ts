// Child process of the crash test in sqlite.test.ts (not a test itself):
// enqueues numbered batches forever and prints each batch number once its
// enqueues have resolved, until the parent kills it with SIGKILL.
import { SqliteStorage } from './sqlite';

const path = process.argv[2];
if (!path) throw new Error('usage: crash-writer.fixture.ts <db file>');

const storage = new SqliteStorage({ path });
await storage.open();
for (let batch = 1; ; batch++) {
  // Several calls per tick, so each printed batch went through one grouped transaction.
  const calls: Promise<void>[] = [];
  for (let call = 0; call < 4; call++) {
    const messages = Array.from({ length: 25 }, (_, i) => ({
      clientId: 'crash',
      id: `${batch}-${call}-${i}`,
      channel: 'crash',
      data: JSON.stringify({ batch, call, i }),
      sender: 'writer',
    }));
    calls.push(storage.enqueue(messages));
  }
  await Promise.all(calls);
  process.stdout.write(`${batch}\n`);
}
