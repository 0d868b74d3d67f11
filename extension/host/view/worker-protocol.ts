// Messages between the extension host and the partition worker thread.
import type { ResolvedSpec } from '../../police/spec';
import type { ViewShowData, ViewSurface } from '../../protocol/messages';
import type { SurfaceRequest } from './surface';

export interface WorkerSurfaceJob {
  type: 'surface';
  id: number;
  request: SurfaceRequest;
}
export interface WorkerDataJob {
  type: 'data';
  id: number;
  spec: ResolvedSpec;
  maxPoints: number;
}
export type HostToWorker = WorkerSurfaceJob | WorkerDataJob;

export interface WorkerSurfaceResult {
  type: 'surface';
  id: number;
  surface: ViewSurface;
}
export interface WorkerDataResult {
  type: 'data';
  id: number;
  data: ViewShowData;
}
export interface WorkerFailure {
  type: 'failure';
  id: number;
  message: string;
}
export type WorkerToHost = WorkerSurfaceResult | WorkerDataResult | WorkerFailure;
