// Worker-thread entry: validates specs off the extension host's thread (a hostile spec may take seconds; the editor must not wait).
import { parentPort } from 'node:worker_threads';
import { MessageChannel } from '../protocol/channel';
import type { HostToValidator, ValidatorToHost } from '../protocol/messages';
import { schemaValidator, validateSpecText } from '../police/spec/parse';

// Every job is a request: its handler's value is the reply; a throw goes back as a ReplyFailure.
const channel = new MessageChannel<ValidatorToHost, HostToValidator>((message) => parentPort?.postMessage(message), {
  validate: (job) => {
    const { spec, problems } = validateSpecText(job.text, job.specPath, job.options);
    return { result: job.withSpec && spec ? { spec, problems } : { problems } };
  },
});

parentPort?.on('message', (message: unknown) => channel.receive(message));
// Start-up is not the first spec's time: its time limit starts at 'validatorReady'.
schemaValidator();
channel.send({ type: 'validatorReady' });
