// Projects (create by import, rename, delete, switch), import with progress and a report
// of what was skipped, exports (CSV, JSONL, images zip, backup) and restore.
import { makeBackup, readBackup } from '../backup';
import { defaultImageFeatures, describeImageFeatures, type ImageFeatureKind } from '../coates';
import { ENCODER_SIZE } from '../encoder-pool';
import { computeImageFeatures, computePretrainedFeatures, encodeAdded, encodedWhere } from '../image-features';
import { usesStoredFeatures } from '../pool';
import { dataColumns, download, imagesZip, labelRows, toCsv, toJsonl } from '../export';
import { channelChoice, decodeImages, fromDataTransfer, fromFileList, importImages, type FolderMode, type InputFile } from '../import';
import type { OpenProject } from '../open-project';
import {
  addSamples, countLabels, deleteProject, getProject, listProjects, patchProject, projectFeatures, projectLabels, projectSamples, putProjectData, replaceFeatures,
  type Db, type FeatureChunk, type LabelRecord, type ProjectRecord, type SampleRecord,
} from '../store/db';
import { $, askText, describe, el, showAlert, showNotice, stopButton, wireDropZone } from './dom';

/** A fresh project id. randomUUID needs a secure context (https or localhost); elsewhere
 * (a LAN address over http) a time-and-random id is just as unique for one browser. */
export function newProjectId(): string {
  return crypto.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export interface AppHandle {
  db: Db;
  session(): OpenProject | null;
  /** Open a project; `keepLock` reopens the one open here without letting go of its tab lock. */
  open(id: string, keepLock?: boolean): Promise<void>;
  addDemo(): Promise<void>;
  show(view: 'label'): void;
}

export async function renderProjects(app: AppHandle): Promise<void> {
  const list = $('project-list');
  const projects = await listProjects(app.db);
  const counts = await Promise.all(projects.map((p) => countLabels(app.db, p.id).catch(() => null)));
  const cur = app.session()?.project.id;
  list.replaceChildren(
    ...projects.map((p, i) => {
      const open = el('button', { type: 'button', 'aria-label': `Open ${p.name}` }, 'Open');
      open.disabled = p.id === cur;
      // Re-rendered after: which project is open (and its feature setting) changed.
      open.addEventListener('click', () => void app.open(p.id).then(() => renderProjects(app)));
      const rename = el('button', { type: 'button', 'aria-label': `Rename ${p.name}` }, 'Rename');
      rename.addEventListener('click', async () => {
        const name = await askText(`New name for “${p.name}”`, p.name);
        if (name && name !== p.name) await renameProject(app, p, name);
      });
      const del = el('button', { type: 'button', 'aria-label': `Delete ${p.name}` }, 'Delete');
      del.addEventListener('click', () => {
        if (!confirm(`Delete the project “${p.name}” and all its labels from this browser? Export a backup first if you may need it.`)) return;
        void removeProject(app, p);
      });
      const kind = (p.kind ?? 'image') === 'image' && p.imageFeatures ? `image, ${p.imageFeatures.kind === 'pretrained' ? 'pretrained' : 'convolutional'} features` : (p.kind ?? 'image');
      const n = counts[i];
      const labels = n == null ? '' : `, ${n.toLocaleString('en')} label${n === 1 ? '' : 's'}`;
      const li = el('li', { 'data-project-id': p.id }, el('span', { class: 'pname' }, p.name), ` (${kind}, ${p.classNames.length} classes${labels}) `);
      if (p.id === cur) {
        li.setAttribute('aria-current', 'true');
        li.append(el('strong', { class: 'open-here' }, 'open'), ' ');
      }
      li.append(open, ' ', rename, ' ', del);
      return li;
    }),
  );
  $('add-demo').hidden = projects.some((p) => p.id === 'demo');
  // Only image projects have images to export by class.
  $('export-zip').hidden = !!app.session() && app.session()!.project.kind !== 'image';
  renderFeatureSetting(app);
}

/**
 * Add images to the open image project: decoded at its size, numbered after its highest
 * sample id, encoded with its stored featurizer when it learns from convolutional
 * features (the stored features stay valid), stored in one transaction, then the project
 * is reopened so the learner has them. Nothing is stored if any step fails.
 */
async function addImages(app: AppHandle, files: InputFile[]): Promise<void> {
  const s = app.session();
  if (!s || s.project.kind !== 'image' || switching || !files.length) return;
  const text = $('features-text');
  const bar = $('features-progress') as HTMLProgressElement;
  if (s.readOnly) {
    text.textContent = 'This project is open in another tab: add images there.';
    return;
  }
  switching = true;
  ($('features-apply') as HTMLButtonElement).disabled = true;
  const id = s.project.id;
  const show = (done: number, total: number, stage?: string) => {
    bar.hidden = false;
    bar.max = Math.max(total, 1);
    bar.value = done;
    text.textContent = `${stage ?? 'decoding'}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')}`;
  };
  try {
    const project = (await getProject(app.db, id)) ?? s.project;
    const existing = (await projectSamples(app.db, id)) as { id?: unknown }[];
    const first = existing.reduce((m: number, r) => (Number.isInteger(r?.id) ? Math.max(m, r.id as number) : m), -1) + 1;
    const d = await decodeImages(files, { size: project.width, channels: project.channels, folders: 'ignore' }, show);
    const samples = d.samples.map((r, i) => ({ ...r, project: id, id: first + i }));
    const skipped = d.skipped.map((k) => `${k.path}: ${k.reason}`);
    if (!samples.length) {
      text.textContent = `No image could be added.${skipped.length ? ` Skipped: ${skipped.join('; ')}` : ''}`;
      return;
    }
    const enc = project.imageFeatures ? await encodeAdded(project, samples, (a, b, stage) => show(a, b, stage)) : null;
    await addSamples(app.db, id, samples, enc?.chunks ?? []);
    await app.open(id, true);
    const on = enc?.encodedOn ? ` in ${(enc.ms / 1000).toFixed(2)} s ${encodedWhere(enc.encodedOn)}` : '';
    const how = project.imageFeatures?.kind === 'pretrained' ? 'pretrained encoder' : 'convolutional features';
    text.textContent = `Added ${samples.length} images (unlabelled)${project.imageFeatures ? `, encoded with this project's ${how}${on}` : ''}.${skipped.length ? ` Skipped ${skipped.length}: ${skipped.join('; ')}` : ''}`;
  } catch (e) {
    text.textContent = `No images were added: ${describe(e)}. The project is as it was.`;
  } finally {
    bar.hidden = true;
    switching = false;
    await renderProjects(app);
  }
}

/** The open image project's feature setting: what the learner sees, and the switch. */
function renderFeatureSetting(app: AppHandle): void {
  const s = app.session();
  const image = !!s && s.project.kind === 'image';
  $('features-setting').hidden = !image;
  if (!s || !image) return;
  $('features-now').textContent = describeImageFeatures(s.project.imageFeatures);
  // Offer another one: the select shows what Apply would switch to.
  ($('features-choice') as HTMLSelectElement).value = s.project.imageFeatures?.kind === 'pretrained' ? 'coates' : 'pretrained';
  ($('features-apply') as HTMLButtonElement).disabled = switching;
}

let switching = false;

/**
 * Switch the open image project between raw pixels and convolutional features. The new
 * features are computed from the stored images (off the main thread, with progress), then
 * stored with the project record in one transaction (the old ones stay if that fails);
 * labels and samples are untouched. The project is then reopened, so the learner retrains
 * on what it now sees.
 */
async function switchFeatures(app: AppHandle, to: ImageFeatureKind): Promise<void> {
  const s = app.session();
  if (!s || s.project.kind !== 'image' || switching) return;
  const text = $('features-text');
  const bar = $('features-progress') as HTMLProgressElement;
  if (s.readOnly) {
    text.textContent = 'This project is open in another tab: switch its features there.';
    return;
  }
  if (to === (s.project.imageFeatures?.kind ?? 'pixels')) {
    text.textContent = `This project already uses ${describeImageFeatures(s.project.imageFeatures)}.`;
    return;
  }
  switching = true;
  ($('features-apply') as HTMLButtonElement).disabled = true;
  const id = s.project.id;
  try {
    if (to === 'pixels') {
      await replaceFeatures(app.db, id, { imageFeatures: undefined, featurizer: undefined }, []);
    } else {
      bar.hidden = false;
      text.textContent = 'Reading the images…';
      const samples = (await projectSamples(app.db, id)) as SampleRecord[];
      const project = (await getProject(app.db, id)) ?? s.project;
      // Only records with pixels of the project's size can be encoded; the others are the
      // ones the session already reports as unreadable.
      const px = project.width * project.height * project.channels;
      const usable = samples.filter((r) => r?.pixels instanceof Uint8Array && r.pixels.length === px && Number.isInteger(r.id));
      const show = (done: number, total: number, stage: string) => {
        bar.max = Math.max(total, 1);
        bar.value = done;
        text.textContent = `${stage}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')}`;
      };
      const f = to === 'pretrained' ? await computePretrainedFeatures(project, usable, ENCODER_SIZE, show) : await computeImageFeatures(project, usable, show);
      await replaceFeatures(app.db, id, { imageFeatures: f.imageFeatures, featurizer: f.featurizer }, f.chunks);
    }
    await app.open(id, true);
    const now = app.session()?.project;
    text.textContent = `Done: the learner now sees ${describeImageFeatures(now?.imageFeatures)}. Your labels are kept.`;
  } catch (e) {
    text.textContent = `The features were not changed: ${describe(e)}. The project is as it was.`;
  } finally {
    bar.hidden = true;
    switching = false;
    await renderProjects(app);
  }
}

async function renameProject(app: AppHandle, p: ProjectRecord, name: string): Promise<void> {
  try {
    const s = app.session();
    if (s && s.project.id === p.id) await s.rename(name);
    else {
      await patchProject(app.db, p.id, { name });
    }
    await renderProjects(app);
  } catch (e) {
    showAlert(describe(e));
  }
}

async function removeProject(app: AppHandle, p: ProjectRecord): Promise<void> {
  try {
    await deleteProject(app.db, p.id);
    const rest = await listProjects(app.db);
    if (app.session()?.project.id === p.id) {
      if (rest.length) await app.open(rest[0].id);
      else await app.addDemo();
    }
    await renderProjects(app);
  } catch (e) {
    showAlert(describe(e));
  }
}

async function runImport(app: AppHandle, files: InputFile[]): Promise<void> {
  if (!files.length) return;
  const status = $('import-status');
  const bar = $('import-progress') as HTMLProgressElement;
  const count = $('import-count');
  const report = $('import-report');
  const cancel = $('import-cancel') as HTMLButtonElement;
  status.hidden = false;
  report.replaceChildren();
  // Encoding pretrained features can take a minute per few thousand images: it can be
  // stopped; the project is then made with raw pixels (switchable later), nothing lost.
  const stop = stopButton('Stop encoding (use raw pixels)');
  const opts = {
    name: ($('import-name') as HTMLInputElement).value.trim() || 'Imported images',
    size: Number(($('import-size') as HTMLSelectElement).value),
    channels: channelChoice(($('import-channels') as HTMLSelectElement).value),
    folders: ($('import-folders') as HTMLSelectElement).value as FolderMode,
    features: ($('import-features') as HTMLSelectElement).value as ImageFeatureKind,
    signal: stop.signal,
  };
  try {
    const id = newProjectId();
    const r = await importImages(id, files, opts, (done, total, stage) => {
      bar.max = Math.max(total, 1);
      bar.value = done;
      count.textContent = `${stage ? `${stage}: ` : ''}${done} / ${total}`;
      const encoding = !!stage && /image encoder|encoding the images/.test(stage) && opts.features === 'pretrained';
      if (cancel.hidden === encoding) {
        cancel.hidden = !encoding;
        cancel.disabled = false;
      }
    });
    cancel.hidden = true;
    const lines: (string | Node)[] = [];
    if (r.samples.length) {
      await putProjectData(app.db, r.project, r.samples, r.labels, r.features);
      lines.push(`Imported ${r.samples.length} images into “${r.project.name}”${r.labels.length ? ` (${r.labels.length} labelled from their folders)` : ''}.`);
      lines.push(...r.notes);
    } else lines.push('No image could be imported, so no project was made.');
    if (r.skipped.length) {
      const ul = el('ul', { class: 'skipped' }, ...r.skipped.map((k) => el('li', {}, `${k.path}: ${k.reason}`)));
      lines.push(el('p', {}, `Skipped ${r.skipped.length} file(s):`), ul);
    }
    report.replaceChildren(...lines.map((l) => (typeof l === 'string' ? el('p', {}, l) : l)));
    if (r.samples.length) {
      await app.open(r.project.id);
      await renderProjects(app);
      if (!r.skipped.length) app.show('label'); // otherwise stay: the report needs reading
    }
  } catch (e) {
    showAlert(`The import failed: ${describe(e)}. Nothing was stored; your other projects are untouched.`, (e as { quota?: boolean }).quota);
  } finally {
    cancel.hidden = true;
  }
}

async function projectData(s: OpenProject): Promise<{ samples: SampleRecord[]; labels: LabelRecord[] }> {
  // Straight from storage: exports show what is on disk, not what is in memory.
  const samples = (await projectSamples(s.db, s.project.id)) as SampleRecord[];
  const labels = (await projectLabels(s.db, s.project.id)) as LabelRecord[];
  return { samples, labels };
}

function fileStem(s: OpenProject): string {
  return s.project.name.replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '') || 'project';
}

async function pixelsPng(s: OpenProject, sm: SampleRecord): Promise<Uint8Array> {
  const { width, height, channels } = s.project;
  const c = new OffscreenCanvas(width, height);
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  const px = sm.pixels!;
  for (let i = 0; i < width * height; i++) {
    const v = channels === 3 ? [px[i * 3], px[i * 3 + 1], px[i * 3 + 2]] : [px[i], px[i], px[i]];
    img.data.set([...v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  return new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

/** Export a backup of the open project (also the way out when storage is full). */
export async function exportBackup(app: AppHandle): Promise<void> {
  const s = app.session();
  if (!s) return;
  const { samples, labels } = await projectData(s);
  const project = (await getProject(s.db, s.project.id)) ?? s.project;
  const features = usesStoredFeatures(project) ? ((await projectFeatures(s.db, s.project.id)) as FeatureChunk[]) : [];
  download(await makeBackup(project, samples, labels, features), `${fileStem(s)}.marginalia.zip`, 'application/zip');
}

export function wireProjects(app: AppHandle): void {
  const guard = (f: (s: OpenProject) => Promise<void>) => async () => {
    const s = app.session();
    if (!s) return;
    try {
      await f(s);
    } catch (e) {
      showAlert(`The export failed: ${describe(e)}. Nothing stored was changed.`);
    }
  };
  $('export-csv').addEventListener('click', guard(async (s) => {
    const { samples, labels } = await projectData(s);
    download(toCsv(labelRows(s.project, samples, labels), dataColumns(s.project)), `${fileStem(s)}-labels.csv`, 'text/csv');
  }));
  $('export-jsonl').addEventListener('click', guard(async (s) => {
    const { samples, labels } = await projectData(s);
    download(toJsonl(labelRows(s.project, samples, labels), dataColumns(s.project)), `${fileStem(s)}-labels.jsonl`, 'application/x-ndjson');
  }));
  $('export-zip').addEventListener('click', guard(async (s) => {
    const { samples, labels } = await projectData(s);
    download(await imagesZip(s.project, samples, labels, (sm) => pixelsPng(s, sm)), `${fileStem(s)}-images.zip`, 'application/zip');
  }));
  $('export-backup').addEventListener('click', guard(() => exportBackup(app)));
  $('alert-export').addEventListener('click', () => void exportBackup(app).catch((e) => showAlert(`The backup failed too: ${describe(e)}`)));
  $('add-demo').addEventListener('click', () => void app.addDemo().then(() => renderProjects(app)));

  const restore = $('restore') as HTMLInputElement;
  restore.addEventListener('change', async () => {
    const f = restore.files?.[0];
    restore.value = '';
    if (!f) return;
    try {
      const r = readBackup(new Uint8Array(await f.arrayBuffer()), newProjectId());
      await putProjectData(app.db, r.project, r.samples, r.labels, r.features);
      await app.open(r.project.id);
      showNotice(`Restored “${r.project.name}”: ${r.samples.length} samples, ${r.labels.length} labels.`);
      await renderProjects(app);
    } catch (e) {
      showAlert(`${f.name} could not be restored: ${describe(e)}. Nothing was stored.`, (e as { quota?: boolean }).quota);
    }
  });

  // The features' default follows the size (coates.ts says why), until the person picks one.
  const size = $('import-size') as HTMLSelectElement;
  const feats = $('import-features') as HTMLSelectElement;
  let picked = false;
  feats.addEventListener('change', () => (picked = true));
  const follow = () => {
    if (!picked) feats.value = defaultImageFeatures(Number(size.value));
  };
  size.addEventListener('change', follow);
  follow();
  const add = $('add-images') as HTMLInputElement;
  add.addEventListener('change', () => {
    const files = fromFileList(add.files ?? []);
    add.value = '';
    void addImages(app, files);
  });
  $('features-apply').addEventListener('click', () => void switchFeatures(app, ($('features-choice') as HTMLSelectElement).value as ImageFeatureKind));

  for (const id of ['pick-files', 'pick-folder']) {
    const input = $(id) as HTMLInputElement;
    input.addEventListener('change', () => {
      const files = fromFileList(input.files ?? []);
      input.value = '';
      void runImport(app, files);
    });
  }
  wireDropZone($('drop'), (data) => void fromDataTransfer(data).then((files) => runImport(app, files)));
}
