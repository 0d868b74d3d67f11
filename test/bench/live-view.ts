// Live view benchmark (not a test): what drawing the map live costs a training. One of Figure 2's trainings runs in the
// real trainer process, with and without live snapshots at police.viewRefreshRate's default (10 Hz) turned into
// surfaces by the real view worker, as the panel does (the webview itself is not involved), interleaved.
// Run: npm run build && npm run bench:live   (POLICE_BENCH_ROUNDS=N pairs, default 3; POLICE_BENCH_STEPS=S, default 400)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TrainerClient } from '../../extension/trainer/client';
import { SurfaceService } from '../../extension/host/view/surface-service';
import { validateSpecText } from '../../extension/police/spec/parse';
import { choosePlane } from '../../extension/common/view-geometry';

const SPEC = resolve('examples/fig2-rays-triangle.police.json');
const REFRESH_HZ = 10;
const ROUNDS = Number(process.env.POLICE_BENCH_ROUNDS ?? 3);
const STEPS = Number(process.env.POLICE_BENCH_STEPS ?? 400);
/** As the panel: a live refresh waits this long on the partition at most, then samples the map (1e8 multiply-adds) from then on. */
const LIVE_PARTITION_MS = 1500;

interface RunResult {
  trainMs: number;
  snapshots: number;
  surfaces: number;
  exactSurfaces: number;
}

async function train(live: boolean, dir: string, round: number): Promise<RunResult> {
  const specText = readFileSync(SPEC, 'utf8');
  const { spec } = validateSpecText(specText, SPEC);
  if (!spec) throw new Error(`${SPEC} is not valid`);
  const { plane, window } = choosePlane(
    spec.inputDim,
    spec.domain,
    spec.regions.map((r) => r.vertices),
    { kind: 'principal', region: 0 },
  );
  let livePartition = true;
  const result: RunResult = { trainMs: 0, snapshots: 0, surfaces: 0, exactSurfaces: 0 };
  const service = new SurfaceService(
    resolve('dist/partition-worker.js'),
    {
      onSurface: (surface) => {
        result.surfaces++;
        if (!surface.partitionError) result.exactSurfaces++;
        if (surface.partitionError && surface.partitionMs >= LIVE_PARTITION_MS) livePartition = false;
      },
      onData: () => undefined,
      onError: (message) => console.error(`view worker: ${message}`),
    },
    REFRESH_HZ,
  );
  await service.start();
  let readyAt = 0;
  const client = new TrainerClient(
    resolve('dist/trainer.js'),
    {
      type: 'start',
      specPath: SPEC,
      specText,
      runDir: join(dir, `run-${round}-${live ? 'live' : 'off'}`),
      steps: STEPS,
      backend: 'auto',
      progressIntervalMs: 1000 / REFRESH_HZ,
      ...(live ? { snapshotIntervalMs: 1000 / REFRESH_HZ } : {}),
    },
    {
      message: () => undefined,
      ready: () => (readyAt = performance.now()),
      progress: () => undefined,
      snapshot: (m) => {
        result.snapshots++;
        if (!live) return;
        service.requestSurface({
          step: m.step,
          network: m.network,
          plane,
          window,
          resolution: 200,
          regions: spec.regions.map((r) => r.vertices),
          partitionTimeLimitMs: livePartition ? LIVE_PARTITION_MS : 0,
          sampleMacs: 1e8,
        });
      },
      finishing: () => (result.trainMs = performance.now() - readyAt),
      log: () => undefined,
      ended: (outcome) => {
        if (outcome.kind !== 'done') console.error(`training ended: ${outcome.kind} ${'message' in outcome ? outcome.message : ''}`);
      },
    },
  );
  await client.exited;
  service.dispose();
  return result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'police-live-bench-'));
  const off: number[] = [];
  const on: number[] = [];
  try {
    console.log(`${SPEC}: ${STEPS} steps, live refresh at ${REFRESH_HZ} Hz; pairs interleaved (the order alternates)`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const live of round % 2 === 0 ? [false, true] : [true, false]) {
        const r = await train(live, dir, round);
        (live ? on : off).push(r.trainMs);
        console.log(
          `  round ${round + 1} ${live ? 'live' : 'off '}: trained in ${(r.trainMs / 1000).toFixed(2)} s; ${r.snapshots} snapshots, ${r.surfaces} surfaces drawn (${r.exactSurfaces} with the exact partition)`,
        );
      }
    }
    const ratios = on.map((t, i) => t / off[i]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // The median as well: one pair disturbed by the machine's other work moves the mean, not the median.
    const sorted = [...ratios].sort((a, b) => a - b);
    const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    console.log(
      `training time with the live view / without: ${ratios.map((r) => r.toFixed(3)).join(', ')} (mean ${mean(ratios).toFixed(3)}: ${((mean(ratios) - 1) * 100).toFixed(1)} % slower; median ${median.toFixed(3)}: ${((median - 1) * 100).toFixed(1)} %)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
