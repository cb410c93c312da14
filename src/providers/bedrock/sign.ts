import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** AWS credentials of an access-key account. */
export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Bedrock Runtime's SigV4 signing name. */
export const SIGNING_SERVICE = 'bedrock';

/**
 * Signs a request to Bedrock Runtime with AWS Signature V4 (the AWS SDK's own signer): returns the
 * headers to send, `host` included (signed, so it must be exactly what goes on the wire),
 * `x-amz-date`, `x-amz-security-token` for temporary credentials, and `authorization`.
 * The signing time is the wall clock, not the relay's clock: AWS checks it against its own.
 */
export async function signRequest(
  req: { url: URL; body: string; headers: Record<string, string> },
  keys: AwsKeys,
  region: string,
  signingDate: Date = new Date(),
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: SIGNING_SERVICE,
    region,
    credentials: keys,
    sha256: Hash.bind(null, 'sha256'),
    // Bedrock does not need x-amz-content-sha256 (only S3 and Glacier do): the body hash is signed anyway.
    applyChecksum: false,
  });
  const { url } = req;
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers, host: url.host },
      body: req.body,
    },
    { signingDate },
  );
  return signed.headers;
}
