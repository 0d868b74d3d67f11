// The certificate written to `certificate.json` and shown in the editor.
import type { Matrix, Vector } from '../spec/types';

export type RegionStatus = 'proved' | 'not-proved' | 'approximate';

export interface CertificateCheck {
  /** e.g. 'vertex-sign-patterns', 'convex-combinations', 'constraint-map'. */
  name: string;
  passed: boolean;
  detail: string;
}

export interface RegionCertificate {
  name: string;
  status: RegionStatus;
  vertexCount: number;
  /** Smallest |pre-activation| over vertices and units, float64, on the side every vertex shares. */
  minMargin: number;
  /** Largest rigorous float64 error bound on any vertex pre-activation; a unit counts only when its margin exceeds its bound. */
  maxErrorBound?: number;
  /** Where the sign patterns first disagree, when they do. */
  firstViolation?: { layer: number; unit: number };
  /** The network's affine map on the region: f(x) = A x + b. */
  affineMap: { A: Matrix; b: Vector };
  /** Largest |f(Σαᵢvᵢ) − Σαᵢf(vᵢ)| over the random convex combinations checked. */
  maxResidual: number;
  samplesChecked: number;
  /** For jacobian / affine_map constraints: largest deviation of (A, b) from the requested map. */
  constraintResidual?: number;
  checks: CertificateCheck[];
}

export interface Certificate {
  format: 'police-certificate/1';
  spec: string;
  createdAt: string;
  /** sha256 of network.json's layers and skip, so a certificate names the exact weights it proves. */
  weightsSha256: string;
  /** All regions proved. */
  proved: boolean;
  regions: RegionCertificate[];
  /** Regions that overlap, named in pairs (their affine maps then have to agree there). */
  overlaps: [string, string][];
}
