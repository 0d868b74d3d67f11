// The webview's end of the host channel: every host message routed to the part of the view it concerns.
import { MessageChannel } from '../extension/protocol/channel';
import type { HostToWebview, WebviewToHost } from '../extension/protocol/messages';
import type { PersistedSettings, VsCodeApi } from './state';
import type { SidePanel } from './ui/side-panel';
import type { ViewController } from './view-controller';

export function connectHost(
  api: VsCodeApi,
  view: () => ViewController,
  side: SidePanel,
  settings: PersistedSettings,
): MessageChannel<WebviewToHost, HostToWebview> {
  const channel = new MessageChannel<WebviewToHost, HostToWebview>(
    (message) => api.postMessage(message),
    {
      spec: (m) => view().showSpec(m.spec, m.specUri),
      data: (m) => view().showData(m),
      trainingStarted: (m) => side.trainingStarted(m.totalSteps, m.backend),
      progress: (m) => side.progress(m),
      lossHistory: (m) => side.lossHistory(m.steps, m.losses, m.totalSteps),
      surface: (m) => view().showSurface(m.surface),
      cell: (m) => view().cellAnswer(m),
      certificate: (m) => side.showCertificate(m.certificate),
      gram: (m) => side.gram(m),
      status: (m) => {
        side.status(m.state, m.message);
        if (m.runDir) {
          settings.saved.runDir = m.runDir;
          settings.persist();
        }
      },
    },
    (raw, reason) =>
      channel.send({ type: 'log', level: 'warn', message: `view ignored a message (${reason}): ${JSON.stringify(raw).slice(0, 200)}` }),
  );
  window.addEventListener('message', (event: MessageEvent) => channel.receive(event.data));
  return channel;
}
