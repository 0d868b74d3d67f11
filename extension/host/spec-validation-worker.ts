// Worker-thread entry: validates specs off the extension host's thread (a hostile spec may take seconds; the editor must not wait).
import { parentPort } from 'node:worker_threads';
import { MessageChannel } from '../protocol/channel';
import type { HostToValidator, ValidatorToHost } from '../protocol/messages';
import { validateSpecText } from '../police/spec/parse';

const channel = new MessageChannel<ValidatorToHost, HostToValidator>(
  (message) => parentPort?.postMessage(message),
  {
    validate: (job) => {
      try {
        const { spec, problems } = validateSpecText(job.text, job.specPath, job.options);
        channel.send({ type: 'validated', id: job.id, result: job.withSpec && spec ? { spec, problems } : { problems } });
      } catch (error) {
        channel.send({ type: 'validationFailed', id: job.id, message: error instanceof Error ? error.message : String(error) });
      }
    },
  },
  (_raw, reason) => channel.send({ type: 'validationFailed', id: -1, message: `validation worker ignored a message (${reason})` }),
);

parentPort?.on('message', (message: unknown) => channel.receive(message));
channel.send({ type: 'validatorReady' });
