// The webview's end of the host channel: every host message routed to the part of the view it concerns, and the
// view's requests (a hovered cell) as promises of their replies.
import { MessageChannel } from '../extension/protocol/channel';
import type { HostToWebview, WebviewToHost } from '../extension/protocol/messages';
import type { VsCodeApi } from './state';
import type { SidePanel } from './ui/side-panel';
import type { HostLink, ViewController } from './view-controller';

/** A point-location ask unanswered this long is given up (its promise rejects), so the next hover asks again. */
const ASK_CELL_TIMEOUT_MS = 2000;

export function connectHost(api: VsCodeApi, view: () => ViewController, side: SidePanel): HostLink {
  const channel = new MessageChannel<WebviewToHost, HostToWebview>(
    (message) => api.postMessage(message),
    {
      spec: (m) => view().showSpec(m.spec, m.specUri),
      data: (m) => view().showData(m),
      trainingStarted: (m) => view().trainingStarted(m),
      progress: (m) => side.progress(m),
      lossHistory: (m) => side.lossHistory(m.points, m.totalSteps, m.health),
      surface: (m) => view().showSurface(m.surface),
      certificate: (m) => view().certificate(m.certificate, m.stale),
      comparison: (m) => side.comparison(m.runs),
      gram: (m) => side.gram(m),
      status: (m) => view().status(m),
    },
    (raw, reason) =>
      channel.send({ type: 'log', level: 'warn', message: `view ignored a message (${reason}): ${JSON.stringify(raw).slice(0, 200)}` }),
  );
  window.addEventListener('message', (event: MessageEvent) => channel.receive(event.data));
  return {
    send: (message) => channel.send(message),
    askCell: async (surfaceId, u, v) => {
      const { cell, map } = await channel.request('cell', { surfaceId, u, v }, { timeoutMs: ASK_CELL_TIMEOUT_MS });
      return { cell, map };
    },
  };
}
