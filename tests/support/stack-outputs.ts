import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `cdk-outputs.json` into `dir` as `npx cdk deploy --outputs-file` would for a stack
 * whose data bucket is `bucket` (s3rver's, in the tests), with `extra` outputs beside.
 */
export async function writeStackOutputs(
  dir: string,
  bucket: string,
  extra: Record<string, string> = {},
): Promise<void> {
  await writeFile(
    path.join(dir, 'cdk-outputs.json'),
    JSON.stringify({
      Pressroom: {
        Region: 'us-east-1',
        DataBucketName: bucket,
        PressRoomUrl: 'https://d111111abcdef8.cloudfront.net/',
        PublicEndpointUrl: 'https://abc.lambda-url.us-east-1.on.aws',
        DispatchFunctionName: 'Pressroom-Dispatch',
        DispatchFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:Pressroom-Dispatch',
        SchedulerRoleArn: 'arn:aws:iam::123456789012:role/Pressroom-SchedulerRole',
        ScheduleGroupName: 'pressroom-campaigns',
        ScheduleDeadLetterQueueArn: 'arn:aws:sqs:us-east-1:123456789012:Pressroom-SchedulingDeadLetterQueue',
        SigningSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pressroom-AbCdEf',
        ...extra,
      },
    }),
  );
}
