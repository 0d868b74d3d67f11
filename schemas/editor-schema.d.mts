// Types of editor-schema.mjs (plain JavaScript so build.mjs can run it without a compiler).
export interface SchemaNode {
  description?: string;
  examples?: unknown[];
  defaultSnippets?: { label?: string; description?: string; body?: unknown; bodyText?: string }[];
  properties?: Record<string, SchemaNode>;
  definitions?: Record<string, SchemaNode>;
}
export function editorSchema(schema: object, snippets?: Record<string, object[]>): SchemaNode;
