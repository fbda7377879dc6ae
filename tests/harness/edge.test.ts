import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from './assembly.ts';
import { type Edge, s3Checks, sesIdentityArn, startEdge } from './edge.ts';
import { ACCOUNT, REGION, TemplateValues } from './template.ts';

const bucket = 'pressroom-data';
const objectArn = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
const checks = (method: string, path: string, headers: Record<string, string> = {}, body = '') =>
  s3Checks(method, new URL(path, 'http://127.0.0.1'), headers, Buffer.from(body));

describe('the edge maps S3 requests to what IAM authorizes', () => {
  it('object reads, writes and deletions: the object ARN, with the key decoded', () => {
    expect(checks('GET', `/${bucket}/archive/%C3%A9tude/page.html`).checks).toEqual([
      { action: 's3:GetObject', resource: objectArn('archive/étude/page.html') },
    ]);
    expect(checks('HEAD', `/${bucket}/a.md`)).toEqual({
      operation: 'HeadObject',
      checks: [{ action: 's3:GetObject', resource: objectArn('a.md') }],
    });
    expect(checks('PUT', `/${bucket}/site/index.html`).checks).toEqual([
      { action: 's3:PutObject', resource: objectArn('site/index.html') },
    ]);
    expect(checks('DELETE', `/${bucket}/x?versionId=3`).checks).toEqual([
      { action: 's3:DeleteObjectVersion', resource: objectArn('x') },
    ]);
  });

  it('a copy needs GetObject on its source too', () => {
    expect(
      checks('PUT', `/${bucket}/site/a.pdf`, { 'x-amz-copy-source': `/${bucket}/archive/a%20b.pdf` }).checks,
    ).toEqual([
      { action: 's3:PutObject', resource: objectArn('site/a.pdf') },
      { action: 's3:GetObject', resource: objectArn('archive/a b.pdf') },
    ]);
  });

  it('listings are ListBucket on the bucket, with the prefix as a condition key; DeleteObjects one check per key', () => {
    expect(checks('GET', `/${bucket}?list-type=2&prefix=campaigns%2F&max-keys=1000`)).toEqual({
      operation: 'ListObjectsV2',
      checks: [
        {
          action: 's3:ListBucket',
          resource: `arn:aws:s3:::${bucket}`,
          context: { 's3:prefix': 'campaigns/', 's3:max-keys': '1000' },
        },
      ],
    });
    const body = '<Delete><Object><Key>a</Key></Object><Object><Key>b/c</Key></Object></Delete>';
    expect(checks('POST', `/${bucket}?delete`, {}, body).checks.map((c) => c.resource)).toEqual([
      objectArn('a'),
      objectArn('b/c'),
    ]);
  });

  it('SES sends are checked on the address identity when there is one, else on its domain', () => {
    const arn = (name: string) => `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${name}`;
    expect(sesIdentityArn('Villes Internet <Presse@Villes-Internet.net>', ['villes-internet.net'])).toBe(
      arn('villes-internet.net'),
    );
    expect(sesIdentityArn('presse@villes-internet.net', ['presse@villes-internet.net'])).toBe(
      arn('presse@villes-internet.net'),
    );
  });
});

describe('the edge answers a call the role denies as AWS does, and records it', () => {
  const template: CfnTemplate = {
    Resources: {
      Data: { Type: 'AWS::S3::Bucket', Properties: { BucketName: bucket } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'signing' } },
      DataPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: { Ref: 'Data' },
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 's3:*',
                Resource: `arn:aws:s3:::${bucket}/archive/sealed/*`,
              },
              {
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 's3:*',
                Resource: '*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          },
        },
      },
    },
  };
  const values = new TemplateValues(template, 'Test');
  const secretArn = values.ref('Secret');
  let upstream: Server;
  let edge: Edge;
  const client = <T>(make: (config: object) => T) =>
    make({
      region: REGION,
      endpoint: edge.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'ReaderFunction', secretAccessKey: 'x' },
      maxAttempts: 1,
    });

  beforeAll(async () => {
    // S3 itself: answers every GET with a body, every PUT with an ETag.
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { etag: '"e"', 'content-type': 'text/plain' });
        res.end(req.method === 'GET' ? 'contenu' : '');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    edge = await startEdge({
      values,
      s3Endpoint: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      sesEndpoint: 'http://127.0.0.1:9',
      secrets: { [secretArn]: 'secret-value-of-the-test' },
      callers: [
        {
          accessKeyId: 'ReaderFunction',
          name: 'ReaderFunction',
          roleArn: `arn:aws:iam::${ACCOUNT}:role/reader`,
          policies: [
            {
              Statement: [
                { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/archive/*` },
              ],
            },
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await edge.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('passes an allowed call on, attributed to the function that signed it', async () => {
    const s3 = client((c) => new S3Client(c));
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'archive/a.html' }));
    expect(await read.Body?.transformToString()).toBe('contenu');
    expect(edge.calls.at(-1)).toMatchObject({
      caller: 'ReaderFunction',
      operation: 'GetObject',
      denied: [],
      status: 200,
    });
  });

  it('refuses a denied S3 call with 403 AccessDenied, naming the function, the action and the resource', async () => {
    const s3 = client((c) => new S3Client(c));
    const write = s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'contacts/x.json', Body: '{}' }));
    await expect(write).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(write).rejects.toThrow(/ReaderFunction is not authorized to perform: s3:PutObject/);
    expect(edge.denials.splice(0)).toEqual([
      {
        caller: 'ReaderFunction',
        operation: 'PutObject',
        action: 's3:PutObject',
        resource: objectArn('contacts/x.json'),
      },
    ]);
  });

  it("refuses what the bucket's policy denies, even when the role allows it", async () => {
    const s3 = client((c) => new S3Client(c));
    await expect(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'archive/sealed/a.html' })),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    expect(edge.denials.splice(0)).toEqual([
      expect.objectContaining({
        caller: 'ReaderFunction',
        action: 's3:GetObject',
        resource: objectArn('archive/sealed/a.html'),
      }),
    ]);
  });

  it('refuses a denied call of a JSON service with AccessDeniedException', async () => {
    const secrets = client((c) => new SecretsManagerClient(c));
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(edge.denials.splice(0)).toEqual([
      expect.objectContaining({
        caller: 'ReaderFunction',
        action: 'secretsmanager:GetSecretValue',
        resource: secretArn,
      }),
    ]);
  });
});
