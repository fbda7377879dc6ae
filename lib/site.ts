import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AccessLevel,
  type AddBehaviorOptions,
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  fileContentSecurityPolicy,
  pageContentSecurityPolicy,
  siteRequestHeaders,
} from '../lambdas/core/public/site-headers.ts';
import { acknowledge } from './nag.ts';

export interface SiteProps {
  /** The data bucket; the press room is its `site/` prefix. */
  dataBucket: IBucket;
  logsBucket: IBucket;
  /** A custom domain and its ACM certificate (us-east-1), or CloudFront's own domain. */
  domain?: { name: string; certificateArn: string };
  /** An AWS WAF web ACL (scope CLOUDFRONT, so in us-east-1) to put in front, by ARN. */
  webAclArn?: string;
}

/**
 * The public endpoint's paths (lambdas/core/public/endpoint.ts), sent to the public function:
 * `/unsubscribe/<token>`, `/subscribe` (the form), `/subscribe/confirm/<token>`, a
 * campaign's proof, `/proof/<token>`; a journalist's advance copy, `/advance/<token>` and
 * `/advance/<token>/pdf` (not `.pdf`: the `*.pdf` behaviour, first, would send it to the
 * bucket); and the opens and clicks of campaigns that track them, `/o/<token>.gif` and
 * `/c/<token>`. No key of the press room (site/) starts with them.
 */
/** The web admin's paths, sent to the admin function (lib/admin.ts). */
export const adminPaths = ['/admin', '/admin/*'] as const;

export const endpointPaths = [
  '/unsubscribe/*',
  '/subscribe',
  '/subscribe/*',
  '/proof/*',
  '/advance/*',
  '/o/*',
  '/c/*',
] as const;

/**
 * On the endpoint's paths, before the request leaves for the function: the host the visitor
 * asked for (the links the function mails are made on it) and the visitor's address (the
 * per-source limit), which the function believes only with the origin secret beside them.
 */
export const endpointForward = `function handler(event) {
  var request = event.request;
  var host = request.headers.host ? request.headers.host.value : '';
  request.headers['${siteRequestHeaders.host}'] = { value: host };
  request.headers['${siteRequestHeaders.viewer}'] = { value: event.viewer.ip };
  return request;
}`;

/**
 * `/releases/x/` → `/releases/x/index.html`; `/releases/x` → redirect to `/releases/x/`
 * (the pages use relative links, so the trailing slash matters).
 */
export const indexRewrite = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
    return request;
  }
  var last = uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: uri + '/' } } };
  }
  return request;
}`;

/**
 * Where the press room's headers differ from its pages' (lambdas/core/public/site-headers.ts):
 * PDFs get no Content-Security-Policy (Chrome's viewer would not run under one), and files
 * people published nothing may run in. Their `Content-Disposition: attachment`, for types
 * other than PDF, images and text, is set on the objects when the press room is written.
 * CloudFront takes the first pattern that matches, in this order.
 */
export const headerPaths = {
  pdf: '*.pdf',
  releaseFiles: 'releases/*/files/*',
  newsletterFiles: 'newsletters/*/files/*',
} as const;

/**
 * The public press room: CloudFront in front of the data bucket's `site/` prefix, read
 * through origin access control (the bucket stays private), HTTPS only, security headers
 * (a Content-Security-Policy on pages, nosniff everywhere), access logs to the logs bucket.
 */
export class Site extends Construct {
  readonly distribution: Distribution;
  /** The press room's address, ending in `/`. */
  readonly url: string;
  private readonly pageHeaders: (id: string, comment: string, csp?: string) => ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: SiteProps) {
    super(scope, id);
    const rewrite = new EdgeFunction(this, 'IndexRewrite', {
      comment: 'pressroom: serve index.html for folder URLs',
      code: FunctionCode.fromInline(indexRewrite),
      runtime: FunctionRuntime.JS_2_0,
    });
    const headers = (id: string, comment: string, contentSecurityPolicy?: string) =>
      new ResponseHeadersPolicy(this, id, {
        comment,
        securityHeadersBehavior: {
          ...(contentSecurityPolicy && { contentSecurityPolicy: { contentSecurityPolicy, override: true } }),
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: HeadersFrameOption.SAMEORIGIN, override: true },
          referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
          strictTransportSecurity: {
            accessControlMaxAge: Duration.days(365),
            includeSubdomains: false,
            override: true,
          },
        },
      });
    this.pageHeaders = headers;
    // LIST as well as READ: S3 then answers a missing key with 404, not 403, and the
    // distribution maps 404 alone to the press room's page, leaving the public function's
    // own 403 (a confirmation refused) as it is. Viewers cannot make CloudFront list: every
    // request becomes a GET of an object under /site (no query string is forwarded).
    const origin = S3BucketOrigin.withOriginAccessControl(props.dataBucket, {
      originPath: '/site',
      originAccessLevels: [AccessLevel.READ, AccessLevel.LIST],
    });
    const behavior = (policy: ResponseHeadersPolicy): BehaviorOptions => ({
      origin,
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: policy,
    });
    const pages = headers('PageHeaders', 'pressroom: pages and feeds', pageContentSecurityPolicy);
    const files = behavior(
      headers('FileHeaders', 'pressroom: published files, nothing runs', fileContentSecurityPolicy),
    );
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'pressroom press room',
      defaultRootObject: 'index.html',
      // The press room's own 404 page (site/404.html, in its language and style) for any
      // address it does not have (S3 says 404: CloudFront may list the bucket). The mapping is
      // the distribution's, so the public function's own 404 pages (an unknown list) become
      // this page too when reached through the press room.
      errorResponses: [404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 404,
        responsePagePath: '/404.html',
        ttl: Duration.seconds(60),
      })),
      defaultBehavior: {
        ...behavior(pages),
        functionAssociations: [{ function: rewrite, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      // No index rewrite for files: an attachment without an extension is not a folder.
      additionalBehaviors: {
        [headerPaths.pdf]: behavior(headers('PdfHeaders', 'pressroom: PDFs, shown by the browser')),
        [headerPaths.releaseFiles]: files,
        [headerPaths.newsletterFiles]: files,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: props.logsBucket,
      logFilePrefix: 'cloudfront/',
      ...(props.webAclArn && { webAclId: props.webAclArn }),
      ...(props.domain && {
        domainNames: [props.domain.name],
        certificate: Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
        minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
      }),
    });
    // CDK warns that LIST lets a request for the bucket's root list it: none can come from a
    // viewer here (defaultRootObject, the index rewrite and the /site origin path make every
    // request a GET of an object key, and no query string is forwarded).
    Annotations.of(this).acknowledgeWarning(
      '@aws-cdk/aws-cloudfront-origins:listBucketSecurityRisk',
      'defaultRootObject is set and every request reaches S3 as a GET of a key under site/',
    );
    this.url = `https://${props.domain?.name ?? this.distribution.distributionDomainName}/`;

    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'A public press room for journalists anywhere: no country is to be blocked.',
    );
    if (!props.webAclArn) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR2',
        'The subscribe form behind it is limited by the function itself (per address, per source, an hourly cap on confirmation mails: docs/subscriptions.md); a web ACL (from about $6 a month) is optional: webAclArn.',
      );
    }
    if (!props.domain) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR4',
        'Without siteDomain the distribution uses the default *.cloudfront.net certificate, whose TLS policy CloudFront fixes; with siteDomain it uses TLSv1.2_2021.',
      );
    }
  }

  /**
   * Routes the public endpoint's paths to the public function's URL, so that the press room,
   * the subscribe form and the links of every mail share one domain. Not through origin access
   * control: Lambda would then refuse POST bodies the viewer did not hash itself
   * (x-amz-content-sha256), which neither a browser's form nor a mail provider's RFC 8058
   * one-click POST sends. The URL stays open (links mailed before keep working); CloudFront
   * adds a secret header, generated in Secrets Manager, by which the function knows that the
   * host and visitor address beside it come from CloudFront. Returns that secret.
   */
  routeEndpoint(functionUrl: IFunctionUrl): Secret {
    const { originSecret, forward } = this.functionOrigins();
    const options = {
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      // The function URL answers only to its own host name.
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      // The press room's security headers, but not its Content-Security-Policy: the
      // function sets its pages' own.
      responseHeadersPolicy: this.pageHeaders('EndpointHeaders', 'pressroom: the public endpoint'),
      functionAssociations: [{ function: forward, eventType: FunctionEventType.VIEWER_REQUEST }],
    };
    const origin = new FunctionUrlOrigin(functionUrl, {
      customHeaders: { [siteRequestHeaders.origin]: originSecret.secretValue.unsafeUnwrap() },
    });
    for (const path of endpointPaths) this.distribution.addBehavior(path, origin, options);
    return originSecret;
  }

  private origins?: { originSecret: Secret; forward: EdgeFunction };

  /**
   * What the functions behind the press room's domain share: the secret header CloudFront adds
   * to their requests, and the CloudFront Function that passes on the host and the visitor's
   * address beside it. Made once, for the first route.
   */
  private functionOrigins(): { originSecret: Secret; forward: EdgeFunction } {
    if (this.origins) return this.origins;
    const originSecret = new Secret(this, 'OriginSecret', {
      description:
        'pressroom: the header CloudFront adds to the requests it sends to the public and admin functions (they carry the visitor address)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      originSecret,
      'AwsSolutions-SMG4',
      'CloudFront reads it once, at deploy: a rotation would not reach the distribution. Changing it is a redeploy (docs/aws.md).',
    );
    const forward = new EdgeFunction(this, 'EndpointForward', {
      comment: 'pressroom: tells the public function the host and the visitor address',
      code: FunctionCode.fromInline(endpointForward),
      runtime: FunctionRuntime.JS_2_0,
    });
    this.origins = { originSecret, forward };
    return this.origins;
  }

  /**
   * Routes `/admin` and `/admin/*` to the admin function's URL (lib/admin.ts), as the public
   * endpoint is routed, and for the same reason not through origin access control: Lambda
   * would refuse the admin's form and JSON POSTs, whose bodies the browser does not hash
   * (x-amz-content-sha256), and OAC would take the Authorization header of API callers. The
   * function answers only requests that carry CloudFront's secret header (returned). Nothing
   * cached; every method, cookie, query string and header (Authorization included: with
   * caching disabled the origin request policy forwards it) reaches the function. Only
   * HSTS and nosniff are added: the admin sets its own Content-Security-Policy, frame and
   * referrer policies (under no-referrer browsers send "Origin: null", which its CSRF check refuses).
   */
  routeAdmin(functionUrl: IFunctionUrl): Secret {
    const { originSecret, forward } = this.functionOrigins();
    const origin = new FunctionUrlOrigin(functionUrl, {
      customHeaders: { [siteRequestHeaders.origin]: originSecret.secretValue.unsafeUnwrap() },
    });
    const options: AddBehaviorOptions = {
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: new ResponseHeadersPolicy(this, 'AdminHeaders', {
        comment: 'pressroom: the web admin (it sets its own page policies)',
        securityHeadersBehavior: {
          contentTypeOptions: { override: true },
          strictTransportSecurity: {
            accessControlMaxAge: Duration.days(365),
            includeSubdomains: false,
            override: true,
          },
        },
      }),
      functionAssociations: [{ function: forward, eventType: FunctionEventType.VIEWER_REQUEST }],
    };
    for (const path of adminPaths) this.distribution.addBehavior(path, origin, options);
    return originSecret;
  }
}
