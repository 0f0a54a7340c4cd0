// Projects (create by import, rename, delete, switch), import with progress and a report
// of what was skipped, exports (CSV, JSONL, images zip, backup) and restore.
import { makeBackup, readBackup } from '../backup';
import { dataColumns, download, imagesZip, labelRows, toCsv, toJsonl } from '../export';
import { fromDataTransfer, fromFileList, importImages, type FolderMode, type InputFile } from '../import';
import type { Session } from '../session';
import {
  deleteProject, getProject, listProjects, patchProject, projectFeatures, projectLabels, projectSamples, putProjectData,
  type Db, type FeatureChunk, type LabelRecord, type ProjectRecord, type SampleRecord,
} from '../store/db';
import { $, describe, el, showAlert, showNotice } from './dom';

/** A fresh project id. randomUUID needs a secure context (https or localhost); elsewhere
 * (a LAN address over http) a time-and-random id is just as unique for one browser. */
export function newProjectId(): string {
  return crypto.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export interface AppHandle {
  db: Db;
  session(): Session | null;
  open(id: string): Promise<void>;
  addDemo(): Promise<void>;
  show(view: 'label'): void;
}

export async function renderProjects(app: AppHandle): Promise<void> {
  const list = $('project-list');
  const projects = await listProjects(app.db);
  const cur = app.session()?.project.id;
  list.replaceChildren(
    ...projects.map((p) => {
      const open = el('button', { type: 'button', 'aria-label': `Open ${p.name}` }, 'Open');
      open.disabled = p.id === cur;
      open.addEventListener('click', () => void app.open(p.id));
      const rename = el('button', { type: 'button', 'aria-label': `Rename ${p.name}` }, 'Rename');
      rename.addEventListener('click', () => {
        const name = prompt('New name for the project', p.name)?.trim();
        if (!name) return;
        void renameProject(app, p, name);
      });
      const del = el('button', { type: 'button', 'aria-label': `Delete ${p.name}` }, 'Delete');
      del.addEventListener('click', () => {
        if (!confirm(`Delete the project “${p.name}” and all its labels from this browser? Export a backup first if you may need it.`)) return;
        void removeProject(app, p);
      });
      return el('li', { 'data-project-id': p.id }, el('span', { class: 'pname' }, p.name), ` (${p.kind ?? 'image'}, ${p.classNames.length} classes) `, open, ' ', rename, ' ', del);
    }),
  );
  $('add-demo').hidden = projects.some((p) => p.id === 'demo');
  // Only image projects have images to export by class.
  $('export-zip').hidden = !!app.session() && app.session()!.project.kind !== 'image';
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
  status.hidden = false;
  report.replaceChildren();
  const opts = {
    name: ($('import-name') as HTMLInputElement).value.trim() || 'Imported images',
    size: Number(($('import-size') as HTMLSelectElement).value),
    channels: Number(($('import-channels') as HTMLSelectElement).value) as 1 | 3,
    folders: ($('import-folders') as HTMLSelectElement).value as FolderMode,
  };
  try {
    const id = newProjectId();
    const r = await importImages(id, files, opts, (done, total) => {
      bar.max = Math.max(total, 1);
      bar.value = done;
      count.textContent = `${done} / ${total}`;
    });
    const lines: (string | Node)[] = [];
    if (r.samples.length) {
      await putProjectData(app.db, r.project, r.samples, r.labels);
      lines.push(`Imported ${r.samples.length} images into “${r.project.name}”${r.labels.length ? ` (${r.labels.length} labelled from their folders)` : ''}.`);
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
  }
}

async function projectData(s: Session): Promise<{ samples: SampleRecord[]; labels: LabelRecord[] }> {
  // Straight from storage: exports show what is on disk, not what is in memory.
  const samples = (await projectSamples(s.db, s.project.id)) as SampleRecord[];
  const labels = (await projectLabels(s.db, s.project.id)) as LabelRecord[];
  return { samples, labels };
}

function fileStem(s: Session): string {
  return s.project.name.replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '') || 'project';
}

async function pixelsPng(s: Session, sm: SampleRecord): Promise<Uint8Array> {
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
  const features = project.kind === 'image' ? [] : ((await projectFeatures(s.db, s.project.id)) as FeatureChunk[]);
  download(await makeBackup(project, samples, labels, features), `${fileStem(s)}.marginalia.zip`, 'application/zip');
}

export function wireProjects(app: AppHandle): void {
  const guard = (f: (s: Session) => Promise<void>) => async () => {
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

  for (const id of ['pick-files', 'pick-folder']) {
    const input = $(id) as HTMLInputElement;
    input.addEventListener('change', () => {
      const files = fromFileList(input.files ?? []);
      input.value = '';
      void runImport(app, files);
    });
  }
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    if (ev.dataTransfer) void fromDataTransfer(ev.dataTransfer).then((files) => runImport(app, files));
  });
}
