#!/usr/bin/env node
// The `pressroom` command: runs the TypeScript entry point through tsx, so that
// `npx pressroom ...` works in a clone right after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('./pressroom.ts');
