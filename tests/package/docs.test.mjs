// The API reference is generated from the TypeScript (TypeDoc, warnings are errors): every
// public entry point gets its page, and nothing public is left undocumented by accident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildDocs } from '../../scripts/build-package.mjs';

test('TypeDoc builds the API reference without warnings', async () => {
  await buildDocs();
  const api = resolve(import.meta.dirname, '../../target/npm/api');
  for (const page of [
    'modules/marginalia.html',
    'modules/marginalia_store.html',
    'modules/marginalia_labeler.html',
    'functions/marginalia.createLearner.html',
    'functions/marginalia_store.openSessionStore.html',
    'classes/marginalia.Learner.html',
    'classes/marginalia_labeler.MarginaliaLabeler.html',
    'interfaces/marginalia.LearnerOptions.html',
    'interfaces/marginalia.ImageOptions.html',
    'types/marginalia.ImageInput.html',
    'functions/marginalia_encoder.embedImages.html',
    'interfaces/marginalia_encoder.EncoderOptions.html',
  ]) {
    assert.ok(existsSync(join(api, page)), `missing ${page}`);
  }
  const options = readFileSync(join(api, 'interfaces/marginalia.LearnerOptions.html'), 'utf8');
  for (const word of ['batchSize', 'backend', 'strategy', 'image', 'Default']) assert.ok(options.includes(word), `LearnerOptions page mentions ${word}`);
  const learner = readFileSync(join(api, 'classes/marginalia.Learner.html'), 'utf8');
  for (const method of ['addImages', 'addTexts', 'addRows', 'featurize']) assert.ok(learner.includes(method), `Learner page documents ${method}`);
});
