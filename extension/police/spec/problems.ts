// Problems found in a spec: the one shape used by the CLI (--json), the editor's diagnostics and the trainer.

export interface Position {
  /** 0-based. */
  line: number;
  /** 0-based, in UTF-16 code units (as VS Code counts). */
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'info';

export interface Problem {
  message: string;
  severity: Severity;
  range: Range;
  /** Offset and length in the text, for hosts that prefer them. */
  offset: number;
  length: number;
  /** Stable identifier, e.g. 'dimension-mismatch', 'schema', 'unknown-variable'. */
  code: string;
}
