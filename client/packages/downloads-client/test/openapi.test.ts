// The package's wire types (src/types.ts) agree with the service's OpenAPI document: the same property names, the
// same required-ness and, where the schema says, the same nullability.
import ts from 'typescript';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceUrl } from './service';

/** TypeScript interface → OpenAPI schema. */
const PAIRS: Record<string, string> = {
  InitiateResponse: 'InitiateDownloadResponse',
  StatusDocument: 'JobStatusDocument',
  JobEvent: 'JobEvent',
  ResultDocument: 'JobResultDocument',
  PendingResultDocument: 'JobPendingDocument',
  FileResult: 'FileResult',
  JobProgress: 'JobProgress',
  ResultFile: 'ResultFile',
  FailedFile: 'FailedFile',
  WebhookState: 'WebhookState',
};

/**
 * Contract fields that the service does not serve yet (retry and archives are being built on another branch). The types have them as optional; once the schema lists them, they are compared like the rest.
 */
const CONTRACT_AHEAD = new Set(['retry_of', 'archive_url']);

interface Property {
  optional: boolean;
  nullable: boolean;
}

function readInterfaces(): Map<string, Map<string, Property>> {
  const path = new URL('../src/types.ts', import.meta.url).pathname;
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const interfaces = new Map<string, Map<string, Property>>();
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    const properties = new Map<string, Property>();
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member) || !member.type) continue;
      const nullable = ts.isUnionTypeNode(member.type) && member.type.types.some((t) => ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword);
      properties.set(member.name.getText(source), { optional: member.questionToken !== undefined, nullable });
    }
    interfaces.set(statement.name.text, properties);
  }
  return interfaces;
}

interface Schema {
  required?: string[];
  properties?: Record<string, { type?: string | string[]; oneOf?: { type?: string }[] }>;
}

/** null where the schema does not say (e.g. a date-time without a type). */
function schemaNullable(property: { type?: string | string[]; oneOf?: { type?: string }[] }): boolean | null {
  if (Array.isArray(property.type)) return property.type.includes('null');
  if (typeof property.type === 'string') return property.type === 'null';
  if (property.oneOf) return property.oneOf.some((o) => o.type === 'null');
  return property && '$ref' in property ? false : null;
}

describe('the TypeScript types and the OpenAPI document', () => {
  let schemas: Record<string, Schema> = {};
  const interfaces = readInterfaces();

  beforeAll(async () => {
    const response = await fetch(`${serviceUrl()}/openapi/v1.json`);
    expect(response.status).toBe(200);
    schemas = ((await response.json()) as { components: { schemas: Record<string, Schema> } }).components.schemas;
  });

  it.each(Object.entries(PAIRS))('%s has the properties of %s', (type, schemaName) => {
    const schema = schemas[schemaName];
    expect(schema, `${schemaName} is in the document`).toBeDefined();
    const properties = interfaces.get(type)!;
    expect(properties, `${type} is in src/types.ts`).toBeDefined();
    const inSchema = Object.keys(schema.properties ?? {}).sort();
    const inType = [...properties.keys()].filter((p) => inSchema.includes(p) || !CONTRACT_AHEAD.has(p)).sort();
    expect(inType).toEqual(inSchema);
    for (const name of [...properties.keys()].filter((p) => !inSchema.includes(p))) {
      expect(properties.get(name)!.optional, `${type}.${name} is ahead of the service: optional`).toBe(true);
    }
  });

  it.each(Object.entries(PAIRS))('%s has the required-ness and nullability of %s', (type, schemaName) => {
    const schema = schemas[schemaName];
    const required = new Set(schema.required ?? []);
    const mismatches: string[] = [];
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const mine = interfaces.get(type)!.get(name);
      if (!mine) continue;
      if (mine.optional === required.has(name)) mismatches.push(`${name}: ${mine.optional ? 'optional' : 'required'} here, ${required.has(name) ? 'required' : 'optional'} in the schema`);
      const nullable = schemaNullable(property);
      if (nullable !== null && nullable !== mine.nullable) mismatches.push(`${name}: ${mine.nullable ? '' : 'not '}nullable here, ${nullable ? '' : 'not '}in the schema`);
    }
    expect(mismatches).toEqual([]);
  });
});
