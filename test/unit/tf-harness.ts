// The engine's numeric suites run once per tfjs backend present, with one tensor-leak check (after tfjs-layers' test_utils).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '../../extension/police/training/backend';

/** A backend a suite runs on: one the engine can select by name. */
export type TestBackend = Exclude<BackendPreference, 'auto'>;

/**
 * Every backend registered with tfjs in this process (importing the engine registers cpu and wasm, and whatever
 * backend packages it loads), highest priority first. POLICE_TEST_BACKENDS=wasm,cpu narrows the list for a quick local run.
 */
export function testBackends(): TestBackend[] {
  const registered = Object.entries(tf.engine().registryFactory)
    .sort(([, a], [, b]) => b.priority - a.priority)
    .map(([name]) => name as TestBackend);
  const only = process.env.POLICE_TEST_BACKENDS?.split(',').map((name) => name.trim());
  return only ? registered.filter((name) => only.includes(name)) : registered;
}

/**
 * Registers `suite` once per backend, each inside describe('on <backend>') whose before() switches tfjs to it; a
 * registered backend that does not start fails the suite (it would silently fall back otherwise).
 */
export function forEachBackend(suite: (backend: TestBackend) => void): void {
  const backends = testBackends();
  assert.ok(backends.length > 0, 'no tfjs backend registered (POLICE_TEST_BACKENDS names none present?)');
  for (const backend of backends) {
    describe(`on ${backend}`, () => {
      before(async () => {
        const choice = await initBackend(backend);
        assert.equal(choice.backend, backend, `backend '${backend}' is registered but did not start: ${choice.notes.join('; ')}`);
      });
      suite(backend);
    });
  }
}

/**
 * Runs `work` and fails when it leaves tensors behind beyond `expectedNew` (say, the tensors it returns).
 * With warmUp, `work` runs once first, so caches a backend fills on first use do not count.
 */
export async function expectNoLeakedTensors<T>(
  work: () => T | Promise<T>,
  options: { expectedNew?: number; warmUp?: boolean; what?: string } = {},
): Promise<T> {
  if (options.warmUp) await work();
  const before = tf.memory().numTensors;
  const result = await work();
  const leaked = tf.memory().numTensors - before - (options.expectedNew ?? 0);
  assert.equal(leaked, 0, `${leaked} tensor(s) left behind on ${tf.getBackend()}${options.what ? ` by ${options.what}` : ''}`);
  return result;
}
