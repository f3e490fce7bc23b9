// Each check against a fixture broken on purpose (terraform/checks/fixtures): it must fail with
// messages naming the fixture file and the exact line; and the real tree must pass all of them.
// Run: node --test terraform/checks/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHECKS, runChecks } from './all.mjs';
import { CHECKS_DIR, defaultPaths, formatFinding, loadTree } from './lib.mjs';

const FIXTURES = join(CHECKS_DIR, 'fixtures');
const FIX_REL = 'terraform/checks/fixtures';
// A frozen copy of functions.json, so the app-properties fixtures stay valid while the real one grows.
const FIXTURE_FUNCTIONS = join(FIXTURES, 'functions.json');

async function run(check, overrides) {
  const paths = { ...defaultPaths(), ...overrides };
  const tree = paths.tfRoot ? await loadTree(paths.tfRoot, paths.repoRoot) : null;
  return CHECKS[check](tree, paths);
}

// Every expected [file, line, pattern] is found, and nothing else is reported.
function expectExactly(findings, expected) {
  const shown = findings.map(formatFinding).join('\n');
  for (const [file, line, pattern] of expected) {
    const hit = findings.find((f) => f.file === file && f.line === line && pattern.test(f.message));
    assert.ok(hit, `expected ${file}:${line} matching ${pattern}; got:\n${shown}`);
  }
  assert.equal(findings.length, expected.length, `unexpected findings:\n${shown}`);
}

test('the real tree passes every check', async () => {
  const { findings } = await runChecks(defaultPaths());
  assert.deepEqual(findings.filter((f) => f.severity !== 'warning').map(formatFinding), []);
});

test('references: dangling var/local/data/resource/module output (also inside for-expressions), unused locals, bad module arguments', async () => {
  const f = `${FIX_REL}/references-bad/main.tf`;
  expectExactly(await run('references', { tfRoot: join(FIXTURES, 'references-bad') }), [
    [f, 8, /var\.missing is not declared/],
    [f, 13, /data\.aws_iam_policy_document\.none is not declared/],
    [f, 14, /local\.nope is not defined/],
    [f, 14, /aws_sqs_queue\.ghost is not a resource/],
    [f, 19, /passes "unknown".*declares no such variable/],
    [f, 17, /does not set "required"/],
    [f, 24, /module\.child\.no_such_output: .* has no output "no_such_output"/],
    [f, 29, /local\.full_map is not defined/],
    [f, 29, /local\.undefined_in_for is not defined/],
    [f, 30, /local\.unused is defined but never used/],
  ]);
});

test('references: a file that does not parse is reported with its line', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync(join(FIXTURES, 'tmp-parse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.tf'), 'variable "x" {\n  type = string\n  description = "d"\n}\n\nresource "a_b" "c" {\n  name = \n}\n');
  const findings = await run('references', { tfRoot: dir });
  assert.equal(findings.length, 1, findings.map(formatFinding).join('\n'));
  assert.equal(findings[0].check, 'parse');
  assert.match(findings[0].file, /tmp-parse-.*\/main\.tf$/);
  assert.equal(findings[0].line, 7);
});

test('variables: missing type, missing description, undescribed output, unmarked sensitive output', async () => {
  const f = `${FIX_REL}/variables-bad/variables.tf`;
  expectExactly(await run('variables', { tfRoot: join(FIXTURES, 'variables-bad') }), [
    [f, 6, /"untyped" has no type/],
    [f, 10, /"undescribed" has no description/],
    [f, 14, /output "bare" has no description/],
    [f, 22, /output "leaks" uses random_password\.this\.result, which is sensitive/],
  ]);
});

test('names: hand-typed queue names, keys, routes, function names and env vars that drifted', async () => {
  const m = `${FIX_REL}/names-bad/modules/functions/main.tf`;
  const e = `${FIX_REL}/names-bad/environments/dev/main.tf`;
  const p = `${FIX_REL}/names-bad/environments/prod/main.tf`;
  expectExactly(await run('names', { tfRoot: join(FIXTURES, 'names-bad'), functionsJson: FIXTURE_FUNCTIONS }), [
    [m, 5, /default_sends names function "chainsync"/],
    [m, 6, /default_sends\.verify: queue key "verdict"/],
    [m, 9, /FEDMARKET_SIWE_DOMAIN, but local\.environment_values gives it no value/],
    [m, 21, /FEDMARKET_SIWE_DOMIAN is not in functions\.json/],
    [m, 28, /handler ".*::handle" differs from functions\.json/],
    [m, 10, /QUARKUS_FUNQY_EXPORT is not set to each function's own name/],
    [m, 35, /queue name "fedmarket-match" typed by hand/],
    [m, 35, /aws_sqs_queue\.extra has a literal name/],
    [m, 39, /route "GET \/jobz\/\{id\}" is not in functions\.json/],
    [e, 2, /local\.queues_spec reads .*queues\.json, not the source of truth/],
    [e, 4, /worker_send_keys: queue key "verdict"/],
    [e, 14, /package_path must be the build's artifact/],
    [p, 1, /does not decode functions\.json/],
  ]);
});

test('names: functions.json against queues.json (unknown queue key, timeout above visibility, no export variable)', async () => {
  const f = `${FIX_REL}/specs-bad/functions.json`;
  expectExactly(await run('names', { tfRoot: join(FIXTURES, 'esm-bad'), functionsJson: join(FIXTURES, 'specs-bad', 'functions.json') }), [
    [f, 79, /"verify" may run 300 s but queue fedmarket-submissions hides a message for only 120 s/],
    [f, 95, /"settle" is triggered by queueKey "settlement"/],
    [f, 5, /must list QUARKUS_FUNQY_EXPORT/],
  ]);
});

test('app-properties: the fixture that reads exactly the Terraform environment passes', async () => {
  expectExactly(await run('app-properties', { tfRoot: null, functionsJson: FIXTURE_FUNCTIONS, appProperties: join(FIXTURES, 'application.properties') }), []);
});

test('app-properties: variables read but not set, and set but not read', async () => {
  const a = `${FIX_REL}/appprops-bad/application.properties`;
  expectExactly(await run('app-properties', { tfRoot: null, functionsJson: FIXTURE_FUNCTIONS, appProperties: join(FIXTURES, 'appprops-bad', 'application.properties') }), [
    [a, 10, /reads \$\{FEDMARKET_RPC_ENDPOINT\}, which Terraform does not set: on AWS the local default/],
    [a, 14, /reads \$\{FEDMARKET_JWT_SIGNING_KEY\} without a default.*fail at start/],
    [a, 15, /smallrye\.jwt\.sign\.key\.location=jwt\/dev-private\.pem is packaged in function\.zip/],
    [`${FIX_REL}/functions.json`, 14, /FEDMARKET_RPC_URL is set on every Lambda .* never reads it/],
  ]);
});

test('app-properties: a missing application.properties fails loudly instead of passing', async () => {
  const findings = await run('app-properties', { tfRoot: null, functionsJson: FIXTURE_FUNCTIONS, appProperties: join(FIXTURES, 'does-not-exist.properties') });
  assert.equal(findings.length, 1);
  assert.equal(findings[0].file, `${FIX_REL}/functions.json`);
  assert.equal(findings[0].line, 5);
  assert.match(findings[0].message, /does-not-exist\.properties does not exist \(yet\)/);
});

test('app-properties: a packaged signing key without a %prod override is a warning, not an error', async () => {
  const findings = await run('app-properties', { tfRoot: null, functionsJson: FIXTURE_FUNCTIONS, appProperties: join(FIXTURES, 'appprops-bad', 'application.properties') });
  const key = findings.filter((f) => /sign\.key/.test(f.message));
  assert.equal(key.length, 1);
  assert.equal(key[0].severity, 'warning');
  assert.ok(findings.filter((f) => f.severity === 'error').length >= 3);
});

test('worker-env: a variable the worker never reads or an S3 prefix its role lacks is an error, one it reads but is not set a warning', async () => {
  const e = `${FIX_REL}/workerenv-bad/environments/dev/main.tf`;
  const findings = await run('worker-env', { tfRoot: join(FIXTURES, 'workerenv-bad'), workerSrc: join(FIXTURES, 'worker-src') });
  expectExactly(findings, [
    [e, 6, /gets FEDMARKET_BUCKETS, but no code under .*worker-src mentions it/],
    [`${FIX_REL}/worker-src/io/fedmarket/worker/WorkerEnv.java`, 6, /also reads FEDMARKET_BUCKET, FEDMARKET_DATA_DIR, which module "gpu_worker" .* does not set/],
    [`${FIX_REL}/worker-src/io/fedmarket/worker/WorkerEnv.java`, 15, /uses S3 keys under ledger\/, which the worker role may not touch \(module "gpu_worker" allows models\/, updates\/\)/],
  ]);
  assert.deepEqual(findings.map((f) => f.severity).sort(), ['error', 'error', 'warning']);
});

test('worker-env: a worker without a main class yet only gets warnings', async () => {
  const findings = await run('worker-env', { tfRoot: join(FIXTURES, 'workerenv-bad'), workerSrc: join(FIXTURES, 'worker-src-wip') });
  expectExactly(findings, [
    [`${FIX_REL}/workerenv-bad/environments/dev/main.tf`, 4, /no main class yet; not yet read by code .*: FEDMARKET_BUCKETS, FEDMARKET_QUEUE_URL_PREFIX$/],
    [`${FIX_REL}/worker-src-wip/io/fedmarket/worker/Partial.java`, 5, /also reads FEDMARKET_BUCKET, which module "gpu_worker"/],
  ]);
  assert.ok(findings.every((f) => f.severity === 'warning'));
});

test('worker-env: without worker sources it warns instead of passing silently', async () => {
  const findings = await run('worker-env', { tfRoot: join(FIXTURES, 'workerenv-bad'), workerSrc: join(FIXTURES, 'no-such-dir') });
  assert.equal(findings.length, 1);
  assert.equal(findings[0].severity, 'warning');
  assert.match(findings[0].message, /no-such-dir not found/);
});

test('worker-image: wrong COPY, a main class the sources lack, running as root', async () => {
  const d = `${FIX_REL}/worker-image-bad/Dockerfile`;
  expectExactly(await run('worker-image', { tfRoot: null, workerDockerfile: join(FIXTURES, 'worker-image-bad', 'Dockerfile'), workerSrc: join(FIXTURES, 'worker-src') }), [
    [d, 1, /does not COPY target\/dist/],
    [d, 5, /starts io\.fedmarket\.worker\.Main, but .*worker-src\/io\/fedmarket\/worker\/Main\.java does not exist/],
    [d, 4, /runs as root/],
  ]);
});

test('worker-image: the real Dockerfile copies the dist, starts WorkerMain, runs as uid 10001', async () => {
  const findings = await run('worker-image', { tfRoot: null });
  assert.deepEqual(findings.filter((f) => f.severity === 'error').map(formatFinding), []);
});

test('funq: a @Funq function missing from functions.json is an error, a deployed name without code a warning', async () => {
  const findings = await run('funq', { tfRoot: null, functionsJson: join(FIXTURES, 'funq-functions.json'), functionsSrc: join(FIXTURES, 'funq-src') });
  expectExactly(findings, [
    [`${FIX_REL}/funq-functions.json`, 6, /deploys "ghost", but no @Funq\("ghost"\) exists/],
    [`${FIX_REL}/funq-src/io/fedmarket/functions/Fixture.java`, 10, /@Funq function "undeployed" is not in functions\.json/],
  ]);
  assert.deepEqual(findings.map((f) => f.severity), ['warning', 'error']);
});

test('queues: no DLQ, redrive without maxReceiveCount, unencrypted', async () => {
  const f = `${FIX_REL}/queues-bad/main.tf`;
  expectExactly(await run('queues', { tfRoot: join(FIXTURES, 'queues-bad') }), [
    [f, 9, /aws_sqs_queue\.work: redrive_policy has no maxReceiveCount/],
    [f, 14, /aws_sqs_queue\.orphan has no DLQ/],
    [f, 14, /aws_sqs_queue\.orphan is not encrypted/],
  ]);
});

test('event source mappings: missing or empty function_response_types', async () => {
  const f = `${FIX_REL}/esm-bad/main.tf`;
  expectExactly(await run('event-source-mappings', { tfRoot: join(FIXTURES, 'esm-bad') }), [
    [f, 7, /\.missing does not report batch item failures/],
    [f, 15, /\.empty does not report batch item failures/],
  ]);
});

test('iam: "*" on "*" in a policy document, in a jsonencode policy, and AdministratorAccess', async () => {
  const f = `${FIX_REL}/iam-bad/main.tf`;
  expectExactly(await run('iam', { tfRoot: join(FIXTURES, 'iam-bad') }), [
    [f, 10, /admin \(Everything\) allows "\*" on "\*"/],
    [f, 22, /aws_iam_role_policy\.json: a policy statement allows Action "\*" on Resource "\*"/],
    [f, 30, /AdministratorAccess attached/],
  ]);
});

test('bucket: no public access block, one switch off, no versioning, no encryption', async () => {
  const f = `${FIX_REL}/bucket-bad/main.tf`;
  expectExactly(await run('bucket', { tfRoot: join(FIXTURES, 'bucket-bad') }), [
    [f, 1, /aws_s3_bucket\.open has no aws_s3_bucket_public_access_block/],
    [f, 1, /aws_s3_bucket\.open is not versioned/],
    [f, 1, /aws_s3_bucket\.open has no default encryption/],
    [f, 14, /restrict_public_buckets must be true/],
  ]);
});

/**
 * The secrets check's broken tree, written at test time: every secret-shaped value is assembled from parts here, so
 * that no string a secret scanner would flag (AWS key id, PEM header, hex key) sits in the repository. All are fake:
 * AWS's documented example key id, web3's documented example private key, a truncated PEM body.
 */
function secretsBadTf() {
  const awsKeyId = 'AKIA' + 'IOSFODNN7' + 'EXAMPLE';
  const evmKey = '0x' + '4c0883a69102937d6231471b5dbb6204' + 'fe5129617082792ae468d01a3f362318';
  const pemBegin = '-----BEGIN ' + 'PRIVATE KEY-----';
  const pemEnd = '-----END ' + 'PRIVATE KEY-----';
  return [
    '# Fake credentials, broken on purpose: every one must be reported.',
    'variable "signer_private_key" {',
    '  type        = string',
    '  description = "Must never reach the state."',
    '}',
    '',
    'resource "aws_db_instance" "this" {',
    '  password = "hunter2hunter2"',
    '}',
    '',
    'resource "aws_ssm_parameter" "key" {',
    '  name  = "/k"',
    '  type  = "SecureString"',
    '  value = var.signer_private_key',
    '}',
    '',
    'locals {',
    `  access_key = "${awsKeyId}"`,
    `  evm_key    = "${evmKey}"`,
    '  rpc        = "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef"',
    '  pem        = <<-PEM',
    `    ${pemBegin}`,
    '    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
    `    ${pemEnd}`,
    '  PEM',
    '}',
    '',
  ].join('\n');
}

test('secrets: password, access key, EVM key, RPC API key, PEM key, key material into state', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync(join(FIXTURES, 'tmp-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.tf'), secretsBadTf());
  const f = `${FIX_REL}/${dir.split('/').pop()}/main.tf`;
  expectExactly(await run('secrets', { tfRoot: dir }), [
    [f, 8, /a credential assigned as a literal/],
    [f, 14, /key material would be stored in the Terraform state/],
    [f, 18, /an AWS access key id/],
    [f, 19, /a 32-byte hex value/],
    [f, 20, /an RPC URL with its API key/],
    [f, 22, /a PEM private key/],
  ]);
});

test('run.mjs exits 1 with file:line messages on a broken tree, 0 on a sound one, 2 on a bad option', () => {
  const runMjs = join(CHECKS_DIR, 'run.mjs');
  const bad = spawnSync(process.execPath, [runMjs, `--tf-root=${join(FIXTURES, 'esm-bad')}`, '--only=event-source-mappings'], { encoding: 'utf8' });
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /terraform\/checks\/fixtures\/esm-bad\/main\.tf:7: \[event-source-mappings\]/);
  const good = spawnSync(process.execPath, [runMjs, '--only=event-source-mappings'], { encoding: 'utf8' });
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /terraform checks: event-source-mappings: ok/);
  const unknown = spawnSync(process.execPath, [runMjs, '--only=nonsense'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown check\(s\): nonsense; known: references/);
});
