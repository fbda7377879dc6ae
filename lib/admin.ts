import { ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery,
  Mfa,
  OAuthScope,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type AdminCampaignsProps, grantAdminCampaigns } from './admin-campaigns.ts';
import { grantAdminContacts } from './admin-contacts.ts';
import { grantAdminNewsletters } from './admin-newsletters.ts';
import type { PressroomConfig } from './config.ts';
import { PressroomFunction } from './functions.ts';
import type { LedgerTable } from './ledger-table.ts';
import { acknowledge } from './nag.ts';
import type { Site } from './site.ts';
import type { Storage } from './storage.ts';

export interface AdminProps {
  site: Site;
  storage: Storage;
  config: PressroomConfig;
  /** The press room's address with a custom domain (known before the distribution is made). */
  siteUrl?: string;
  /** The contacts section's: the signing secret and the ledger (lib/admin-contacts.ts). */
  signingSecret: ISecret;
  ledger: LedgerTable;
  /** What the campaigns section hands its work to (lib/admin-campaigns.ts). */
  campaigns: Omit<AdminCampaignsProps, 'storage'>;
}

/** What the admin function reads of the data bucket: the uploaded publications, and each release's manifest. */
export const adminReads = ['publications/*', 'archive/*/release.json'] as const;

/**
 * What it writes: the publication files it saves and creates (as drafts, which the publish
 * function leaves alone), and publishes (the same bytes again, without the draft mark).
 */
export const adminWrites = ['publications/*.md'] as const;

/**
 * The web admin on AWS (docs/aws.md, "The web admin"): a Cognito user pool of its users (made
 * by the deployer, no self sign-up, TOTP required), its sign-in domain and an app client with
 * the authorization-code flow back to `https://<press room>/admin/auth/callback`, and the admin
 * function behind the distribution's `/admin/*` (Site.routeAdmin).
 *
 * The function cannot be given the app client's id in its environment: the client names the
 * distribution's address, the distribution the function's URL, the URL the function. So the id
 * sits in the admin's secret (beside the key of its sessions), which the function finds by a
 * name made from the stack's id, not by a reference to the secret.
 */
export class Admin extends Construct {
  readonly userPool: UserPool;
  readonly domain: UserPoolDomain;
  readonly client: UserPoolClient;
  readonly secret: Secret;
  readonly function: PressroomFunction;

  constructor(scope: Construct, id: string, props: AdminProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.userPool = new UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Accounts are made again in a minute (docs/aws.md): nothing of the workspace is kept here.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.userPool,
      'AwsSolutions-COG8',
      'A few staff accounts made by the deployer, with a 12-character password and TOTP required, and no self sign-up: the Plus plan (threat protection, about $0.02 a user a month) can be turned on in the console when wanted.',
    );
    // A prefix of the stack and the account: unique per region without a setting.
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: Fn.join('-', [stack.stackName.toLowerCase(), Aws.ACCOUNT_ID]) },
    });
    const site = props.siteUrl ?? props.site.url;
    this.client = this.userPool.addClient('Client', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [`${site}admin/auth/callback`],
        logoutUrls: [`${site}admin/sign-in`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(8),
    });
    // Unique to this stack's life (its id's UUID): after a destroy, the old name waits out
    // Secrets Manager's recovery window while the new stack makes another.
    const secretName = Fn.join('-', ['pressroom-admin', Fn.select(2, Fn.split('/', Aws.STACK_ID))]);
    this.secret = new Secret(this, 'Secret', {
      secretName,
      description: "pressroom: the admin's app client id and the key of its sessions",
      generateSecretString: {
        // The dispatch function's ARN too (lib/admin-campaigns.ts says why it is not in the environment).
        secretStringTemplate: stack.toJsonString({
          clientId: this.client.userPoolClientId,
          dispatchFunctionArn: props.campaigns.dispatch.functionArn,
        }),
        generateStringKey: 'sessionKey',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'A new session key only ends the sessions open (8 hours at most): change it by putting a new sessionKey, no rotation function needed.',
    );

    this.function = new PressroomFunction(this, 'Function', {
      handler: 'admin',
      description: 'pressroom: the web admin behind CloudFront /admin/* and Cognito sign-in',
      // MJML (half a second to load) renders the previews.
      memorySize: 1024,
      timeout: Duration.seconds(30),
      config: props.config,
      withTemplates: true,
      environment: {
        PRESSROOM_BUCKET: props.storage.dataBucket.bucketName,
        PRESSROOM_SITE_LANG: props.config.siteLang,
        // Only with a custom domain: CloudFront's own address is made after the function.
        ...(props.siteUrl && { PRESSROOM_SITE_URL: props.siteUrl }),
        PRESSROOM_ADMIN_USER_POOL_ID: this.userPool.userPoolId,
        PRESSROOM_ADMIN_AUTH_URL: this.domain.baseUrl(),
        PRESSROOM_ADMIN_SECRET_NAME: secretName,
      },
    });
    // Open (auth NONE) at the URL, refused without CloudFront's secret header (Site.routeAdmin).
    const url = this.function.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    const originSecret = props.site.routeAdmin(url);
    this.function.function.addEnvironment('PRESSROOM_ORIGIN_SECRET_ARN', originSecret.secretArn);
    props.storage.grantData(this.function, { read: [...adminReads], write: [...adminWrites] });
    grantAdminContacts(this.function, props);
    grantAdminCampaigns(this.function, { ...props.campaigns, storage: props.storage });
    grantAdminNewsletters(this.function, props);
    this.function.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [
          originSecret.secretArn,
          // By name (Secrets Manager adds six characters): a reference would close the loop.
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: Fn.join('', [secretName, '-??????']),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
  }
}
