import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * What the publish function prints PDFs and makes images with: a layer holding
 * `@sparticuz/chromium` (its Chromium, compressed, with the fonts and libraries it ships),
 * `playwright-core`, and `sharp` with its Linux x64 (glibc) build and libvips, copied
 * at synth from this clone's node_modules with their dependencies as package-lock.json names
 * them. Nothing is downloaded, at synth or at run time. Lambda puts the layer under `/opt`,
 * and Node.js finds `/opt/nodejs/node_modules` (NODE_PATH), for ES modules too.
 *
 * The npm package ships Chromium for x64 only (its arm64 build is a separate download):
 * a function with this layer runs on x86_64, and takes sharp's builds for that platform
 * (`@img/sharp-linux-x64`, `@img/sharp-libvips-linux-x64`), whatever machine synthesizes.
 */
export class ChromiumLayer extends Construct {
  /** The packages the layer provides: the function's bundle must leave them out. */
  readonly modules: readonly string[] = ['@sparticuz/chromium', 'playwright-core', 'sharp'];
  readonly layer: LayerVersion;
  readonly architecture = Architecture.X86_64;

  constructor(scope: Construct, id: string, props: { projectRoot: string }) {
    super(scope, id);
    const lock = readLock(props.projectRoot);
    const packages = packageClosure(lock, this.modules, (lockPath) =>
      existsSync(path.join(props.projectRoot, lockPath)),
    );
    const versions = this.modules.map((name) => `${name}@${lock[`node_modules/${name}`]?.version}`);
    this.layer = new LayerVersion(this, 'Layer', {
      description: `pressroom: ${versions.join(', ')} for printing PDFs and making images`,
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [this.architecture],
      code: Code.fromAsset(path.join(props.projectRoot, 'node_modules', '@sparticuz', 'chromium'), {
        // The same packages at the same versions give the same layer: no new upload.
        assetHashType: AssetHashType.CUSTOM,
        assetHash: lockHash(lock, packages),
        bundling: {
          // Never used: the copy below always runs here, without Docker.
          image: DockerImage.fromRegistry('scratch'),
          local: {
            tryBundle(outputDir) {
              for (const lockPath of packages) {
                const to = path.join(outputDir, 'nodejs', lockPath);
                mkdirSync(path.dirname(to), { recursive: true });
                cpSync(path.join(props.projectRoot, lockPath), to, {
                  recursive: true,
                  dereference: true,
                  // Nested packages are in the list themselves when they are needed.
                  filter: (source) =>
                    path.relative(path.join(props.projectRoot, lockPath), source) !== 'node_modules',
                });
              }
              return true;
            },
          },
        },
      }),
    });
  }
}

type Lock = Record<
  string,
  {
    version?: string;
    integrity?: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    os?: string[];
    cpu?: string[];
    libc?: string[];
  }
>;

/** Whether a package may run on Lambda's x86_64 Linux (glibc): one built for another platform is left out. */
function runsOnLambda(entry: Lock[string]): boolean {
  return (
    (!entry.os || entry.os.includes('linux')) &&
    (!entry.cpu || entry.cpu.includes('x64')) &&
    (!entry.libc || entry.libc.includes('glibc'))
  );
}

function readLock(projectRoot: string): Lock {
  return JSON.parse(readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')).packages;
}

/**
 * The lock's paths (`node_modules/tar-fs`) of `names` and of everything they depend on,
 * found as Node.js finds them: in the package's own node_modules, then up the tree. Optional
 * dependencies are taken when they run on Lambda's platform and `installed` says npm put
 * them here (sharp lists a build for every platform, and a WebAssembly one it does not need).
 */
export function packageClosure(
  lock: Lock,
  names: readonly string[],
  installed: (lockPath: string) => boolean = () => true,
): string[] {
  const found = new Set<string>();
  const visit = (lockPath: string) => {
    if (found.has(lockPath)) return;
    found.add(lockPath);
    const entry = lock[lockPath] ?? {};
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const dependency = resolveIn(lock, lockPath, name);
      const optional = entry.optionalDependencies?.[name] !== undefined;
      // An optional dependency for another platform is not installed: not needed either.
      if (dependency && (!optional || (runsOnLambda(lock[dependency] ?? {}) && installed(dependency))))
        visit(dependency);
      else if (!optional)
        throw new Error(`${lockPath} needs ${name}, which package-lock.json does not have: run npm ci`);
    }
  };
  for (const name of names) {
    if (!lock[`node_modules/${name}`]) throw new Error(`${name} is not in package-lock.json`);
    visit(`node_modules/${name}`);
  }
  return [...found].sort();
}

function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  let folder = from;
  for (;;) {
    const candidate = `${folder}/node_modules/${name}`;
    if (lock[candidate]) return candidate;
    const up = folder.lastIndexOf('/node_modules/');
    if (up < 0) return lock[`node_modules/${name}`] ? `node_modules/${name}` : undefined;
    folder = folder.slice(0, up);
  }
}

/** The packages' paths and integrity hashes, as the layer's asset hash. */
function lockHash(lock: Lock, packages: string[]): string {
  return packages.map((p) => `${p}@${lock[p]?.version}#${lock[p]?.integrity ?? ''}`).join('\n');
}
