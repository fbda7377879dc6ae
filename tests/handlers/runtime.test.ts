import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contactKeys } from '../../lambdas/core/contacts/model.ts';
import { redactEmailAddresses } from '../../lambdas/core/privacy.ts';
import { ConfigurationError } from '../../lambdas/handlers/config.ts';
import { cached, logger, signingKeys, signingSecret } from '../../lambdas/handlers/runtime.ts';
import { captureLogs } from './harness.ts';

const arn = (name: string) => `arn:aws:secretsmanager:eu-west-3:123456789012:secret:${name}`;
const SECRET = 'another-signing-secret-of-32-characters-or-more';

const secrets = mockClient(SecretsManagerClient);

beforeAll(() => {
  vi.stubEnv('AWS_REGION', 'eu-west-3');
  secrets.on(GetSecretValueCommand, { SecretId: arn('good') }).resolves({ SecretString: SECRET });
  secrets.on(GetSecretValueCommand, { SecretId: arn('short') }).resolves({ SecretString: 'too-short' });
  secrets
    .on(GetSecretValueCommand, { SecretId: arn('binary') })
    .resolves({ SecretBinary: new TextEncoder().encode(SECRET) });
  secrets.on(GetSecretValueCommand, { SecretId: arn('missing') }).rejects(
    Object.assign(new Error("Secrets Manager can't find the specified secret."), {
      name: 'ResourceNotFoundException',
    }),
  );
});

afterAll(() => {
  secrets.restore();
  vi.unstubAllEnvs();
});

describe('email addresses never reach the logs', () => {
  it('redactEmailAddresses replaces bare and URL-encoded addresses, international ones too', () => {
    expect(redactEmailAddresses('smtp; 550 5.1.1 <jeanne.martin@example.org>: unknown')).toBe(
      'smtp; 550 5.1.1 <[address]>: unknown',
    );
    expect(redactEmailAddresses('/unsubscribe?to=o%27brien%40m%C3%A9dia.fr&x=1')).toBe(
      '/unsubscribe?[address]&x=1',
    );
    expect(redactEmailAddresses("o'brien+presse@médias-libres.fr, élodie@exemple.fr")).toBe(
      '[address], [address]',
    );
    // Not addresses: package paths, decorators, handles without a domain.
    expect(redactEmailAddresses('node_modules/@aws-sdk/client-s3 @Villes_Internet')).toBe(
      'node_modules/@aws-sdk/client-s3 @Villes_Internet',
    );
  });

  it('the logger redacts messages, attributes, keys and errors with their causes', async () => {
    const logs = await captureLogs(async () => {
      logger.info('bounce for jeanne.martin@example.org', {
        recipient: 'jeanne.martin@example.org',
        nested: { list: ['paul.durand@example.org'] },
        byAddress: { 'lea.petit@example.org': 1 },
      });
      logger.error(
        'send failed',
        new Error('refused: marc.leroy@example.org', { cause: new Error('550 <nina.roux@example.org>') }),
      );
    });
    const lines = logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      message: 'bounce for [address]',
      recipient: '[address]',
      nested: { list: ['[address]'] },
      byAddress: { '[address]': 1 },
    });
    expect(lines[1].error.message).toBe('refused: [address]');
    expect(logs).toContain('[address]');
    expect(logs).not.toMatch(/@example\.org/);
  });
});

describe('the signing secret (Secrets Manager, mocked)', () => {
  it('gives the keys the command line derives from the same secret', async () => {
    const keys = await signingKeys(arn('good'));
    const cli = contactKeys(SECRET);
    expect(keys.idOf('Jeanne.Martin@example.org')).toBe(cli.idOf('jeanne.martin@example.org'));
    expect(keys.tokenKey.equals(cli.tokenKey)).toBe(true);
  });

  it('is fetched once and then kept', async () => {
    await signingSecret(arn('good'));
    await signingSecret(arn('good'));
    const calls = secrets.commandCalls(GetSecretValueCommand, { SecretId: arn('good') });
    expect(calls).toHaveLength(1);
  });

  it('refuses a secret shorter than 32 characters, or binary, without showing it', async () => {
    for (const name of ['short', 'binary']) {
      const error = await signingSecret(arn(name)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain('PRESSROOM_SECRET_ARN');
      expect((error as Error).message).toContain('32 characters or more');
      expect((error as Error).message).not.toContain('too-short');
    }
  });

  it('says which variable names a secret that cannot be read, and what to check', async () => {
    const error = await signingSecret(arn('missing')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /PRESSROOM_SECRET_ARN cannot be read .*missing.*Check that the secret exists and that the function's role may read it/,
    );
  });
});

describe('cached', () => {
  it('keeps a value for the container, but not a failure', async () => {
    let calls = 0;
    const value = cached(async () => {
      calls++;
      if (calls === 1) throw new Error('throttled');
      return calls;
    });
    await expect(value()).rejects.toThrow('throttled');
    expect(await value()).toBe(2);
    expect(await value()).toBe(2);
    expect(calls).toBe(2);
  });
});
