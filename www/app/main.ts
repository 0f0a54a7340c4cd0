// The labelling app's wiring: storage, the learner worker, the open project (OpenProject) and
// the views. Behaviour lives in open-project.ts and ui/*.ts; this file only connects them.
import * as Comlink from 'comlink';
import { buildDemo } from './demo';
import { KEY_HELP, keyToAction, type View } from './keys';
import { READ_ONLY_MESSAGE, OpenProject } from './open-project';
import { DEMO_PROJECT, getMeta, getProject, listProjects, onOtherTabChange, openStore, putProjectData, setMeta, type Db } from './store/db';
import { renderBatch, wireBatch } from './ui/batch-view';
import { renderDashboard, renderStorage, wireDashboard } from './ui/dashboard';
import { $, describe, el, hideAlert, showAlert, showNotice } from './ui/dom';
import { openFinder, openNewClass, renderLabel, renderOpening, showKeyNote, wireLabelView } from './ui/label-view';
import { renderProjects, wireProjects, type AppHandle } from './ui/projects-view';
import { wireDataImport } from './ui/data-import';
import type { EngineApi } from './engine.worker';

let session: OpenProject | null = null;
let view: View = 'label';
let db: Db;
let engine: Comlink.Remote<EngineApi>;

const hooks = {
  changed(s: OpenProject) {
    if (s !== session) return;
    render();
  },
  problem(message: string, quota = false) {
    showAlert(message, quota);
  },
  note(message: string) {
    showKeyNote(message);
  },
  handled(s: OpenProject) {
    if (s === session) $('labeler').dataset.handled = String(s.handled);
  },
  // The lock outlives a reopen (it moves to the new OpenProject): match on it, not the OpenProject.
  lockLost(s: OpenProject) {
    if (session && session.lock === s.lock) showLock(session);
  },
  lockGained(s: OpenProject) {
    // Reopen, keeping the lock, so this tab starts from what the other tab wrote.
    if (session && session.lock === s.lock) void open(session.project.id, true);
  },
};

function render(): void {
  const s = session;
  if (!s) return;
  $('project-title').textContent = s.project.name;
  $('footer-data').textContent = dataCredit(s);
  if (view === 'label') renderLabel(s);
  if (view === 'dashboard') renderDashboard(s);
  showLock(s);
}

/** The footer names the open project's data: the demo's source and licence, or the person's own file. */
function dataCredit(s: OpenProject): string {
  const p = s.project;
  if (p.id === DEMO_PROJECT) return 'Demo data: Fashion-MNIST (MIT, Zalando SE), 1,000-image subset.';
  const from = p.sourceName ? ` from ${p.sourceName}` : '';
  return `Data: “${p.name}”${from}, ${s.pool.length + s.test.length} samples you imported on ${new Date(p.createdAt).toLocaleDateString('en')}.`;
}

function showLock(s: OpenProject): void {
  const bar = $('lockbar');
  bar.hidden = !s.readOnly;
  if (s.readOnly) $('lock-text').textContent = `“${s.project.name}” is open for labelling in another tab of this browser. This tab only shows it, so the two cannot overwrite each other.`;
}

function setView(v: View): void {
  view = v;
  for (const name of ['label', 'batch', 'dashboard', 'projects'] as View[]) $(`view-${name}`).hidden = name !== v;
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('nav button[data-view]'))) {
    if (b.dataset.view === v) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  if (!session) return;
  // Leaving the label view is a pause: store the chart's history now (exports read storage).
  if (v !== 'label') session.flushPendingHistory();
  watch(session);
  if (v === 'batch') renderBatch(session);
  if (v === 'projects') void renderProjects(app);
  if (v === 'dashboard') void renderStorage(false);
  render();
}

/** With the dashboard on screen the worker estimates accuracy after every retrain (k fits); otherwise only now and then. */
function watch(s: OpenProject): void {
  s.watching = view === 'dashboard';
  s.labelling = view === 'label';
  if (s.watching) void s.evaluate();
}

async function open(id: string, keepLock = false): Promise<void> {
  const lock = keepLock && session?.project.id === id ? session.lock : undefined;
  session?.close(lock !== undefined);
  session = null;
  // Nothing of the project being left stays up (its sample, buttons, decisions), and no
  // key acts (onKey) until the new one is open.
  const name = (await getProject(db, id).catch(() => undefined))?.name ?? null;
  renderOpening(name);
  $('footer-data').textContent = '';
  if (view === 'projects') void renderProjects(app);
  try {
    const s = await OpenProject.open(db, engine, id, hooks, lock);
    session = s;
    if (s.problems.length) {
      // Unreadable records are skipped, never deleted: the data stays for recovery.
      showNotice(
        `${s.problems.length} stored record(s) could not be read and were skipped (nothing was deleted): ${s.problems.slice(0, 5).join('; ')}${s.problems.length > 5 ? '; …' : ''}`,
      );
    }
    await setMeta(db, 'lastProject', id).catch(() => {});
    watch(s);
    render();
    // The label view holds the open project's sample even while another view is on
    // screen (it was cleared when the opening began).
    if (view !== 'label') renderLabel(s);
    if (view === 'batch') renderBatch(s);
    if (view === 'projects') void renderProjects(app);
    $('labeler').setAttribute('aria-busy', 'false');
  } catch (e) {
    showAlert(`The project could not be opened: ${describe(e)}. Its stored data is untouched.`);
  }
}

async function addDemo(): Promise<void> {
  $('guess').textContent = 'Storing the demo dataset in this browser…';
  const { project, samples } = await buildDemo(engine);
  await putProjectData(db, project, samples);
  await open(DEMO_PROJECT);
}

const app: AppHandle = { get db() { return db; }, session: () => session, open, addDemo, show: (v) => setView(v) };

function onKey(ev: KeyboardEvent): void {
  const t = ev.target instanceof Element ? ev.target : null;
  // Escape leaves a text field, so the single-key shortcuts work again without a mouse.
  if (ev.key === 'Escape' && t instanceof HTMLInputElement && !t.closest('dialog')) {
    t.blur();
    return;
  }
  // Typing in a field is typing, not a shortcut (a focused file picker or button is not).
  if (t && (t.closest('select, textarea, [contenteditable], dialog') || (t instanceof HTMLInputElement && !['file', 'button', 'submit', 'checkbox', 'radio'].includes(t.type)))) return;
  const s = session;
  const action = keyToAction(ev.key, s?.project.classNames ?? [], ev.ctrlKey || ev.metaKey || ev.altKey, ev.repeat);
  if (action.kind === 'none') {
    // A held key's repeats are swallowed (Space would otherwise scroll or press a button).
    if (ev.repeat && view === 'label') ev.preventDefault();
    return;
  }
  if (action.kind === 'help') {
    ev.preventDefault();
    ($('help') as HTMLDialogElement).showModal();
    return;
  }
  if (action.kind === 'view') {
    ev.preventDefault();
    setView(action.view);
    return;
  }
  if (view !== 'label') return;
  ev.preventDefault(); // also keeps Space from pressing a focused button
  const key = ev.key === ' ' ? 'Space' : ev.key;
  // No key acts while a project opens: what is on screen is not yet what it would act on.
  if (!s) {
    showKeyNote(`Key ${key} did nothing: the project is still opening.`);
    return;
  }
  if (s.readOnly) {
    showAlert(READ_ONLY_MESSAGE);
    showKeyNote(`Key ${key} did nothing: this project is being labelled in another tab, and this tab only shows it. Use “Label here instead” to label here.`);
    return;
  }
  // A key acts on the sample on screen when it was pressed; if that sample has been
  // decided by the time the key's turn comes (keys pressed faster than the disk commits),
  // the key does nothing rather than decide a sample no one has seen.
  const shown = s.current;
  const t0 = ev.timeStamp;
  // Whether the worker was training when the key came (the latency bench splits on it).
  const detail = { workerBusy: s.workerBusy };
  const next = (p: Promise<unknown>) =>
    void p.then(() => {
      // Keypress → next sample on screen: measured once the frame that shows it has been
      // produced (a message posted from requestAnimationFrame runs after that frame's
      // style, layout and paint), so the figure includes drawing, not just the script.
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => performance.measure('label→next', { start: t0, end: performance.now(), detail });
        ch.port2.postMessage(null);
      });
    });
  switch (action.kind) {
    case 'error':
      showAlert(action.message);
      break;
    case 'label':
      hideAlert();
      next(s.label(action.classIndex, shown));
      break;
    case 'skip':
      next(s.skip(shown));
      break;
    case 'undo':
      next(s.undo());
      break;
    case 'newClass':
      openNewClass();
      break;
    case 'filter':
      openFinder(s);
      break;
  }
}

function wire(): void {
  document.addEventListener('keydown', onKey);
  // A tab that only shows a project follows the tab that labels it (a short wait gathers
  // a burst of that tab's labels into one read).
  let followTimer: ReturnType<typeof setTimeout> | null = null;
  onOtherTabChange((project) => {
    if (!session || session.project.id !== project || !session.readOnly || followTimer) return;
    followTimer = setTimeout(() => {
      followTimer = null;
      void session?.follow().catch((e) => showAlert(`This tab could not follow the other tab's changes: ${describe(e)}. Reload to see them.`));
    }, 150);
  });
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('nav button[data-view]'))) {
    b.addEventListener('click', () => setView(b.dataset.view as View));
  }
  const help = $('help') as HTMLDialogElement;
  $('help-open').addEventListener('click', () => help.showModal());
  help.addEventListener('keydown', (ev) => {
    if (ev.key === '?') help.close();
  });
  help.querySelector('tbody')!.append(...KEY_HELP.map(([k, what]) => el('tr', {}, el('th', { scope: 'row' }, el('kbd', {}, k)), el('td', {}, what))));
  $('alert-close').addEventListener('click', hideAlert);
  $('lock-take').addEventListener('click', async () => {
    const s = session;
    if (!s) return;
    await s.lock.steal();
    // Reopen (keeping the lock) so this tab reads what the other tab wrote.
    await open(s.project.id, true);
  });
  wireLabelView(() => session);
  wireBatch(() => session);
  wireDashboard(() => session);
  wireProjects(app);
  wireDataImport(app);
}

async function registerServiceWorker(): Promise<void> {
  // Offline after the first visit. Only in a build: the dev server's files change constantly.
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('./sw.js', { scope: './' });
  } catch (e) {
    showNotice(`Offline use is not available here (${describe(e)}); everything else works.`);
  }
}

async function boot(): Promise<void> {
  wire();
  try {
    db = await openStore(() => showAlert('A newer version of Marginalia was opened in another tab. Reload this tab to go on; your labels are saved.'));
  } catch (e) {
    showAlert(`This browser's storage (IndexedDB) could not be opened: ${describe(e)}. Nothing can be saved, so labelling is off.`);
    return;
  }
  void registerServiceWorker();
  void renderStorage(true);

  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
  engine = Comlink.wrap<EngineApi>(worker);
  // The one test seam: the end-to-end test of a GPU lost mid-session (a driver reset)
  // needs the worker's device, which the page cannot reach otherwise. It changes no data.
  (globalThis as { marginaliaLoseGpuForTesting?: () => Promise<boolean> }).marginaliaLoseGpuForTesting = () => engine.loseGpuForTesting();
  try {
    const { simd } = await engine.init();
    $('engine').textContent = simd ? 'WebAssembly (SIMD)' : 'WebAssembly';
  } catch (e) {
    const projects = await listProjects(db).catch(() => []);
    showAlert(
      `The learning engine could not be loaded (${describe(e)}). Your ${projects.length} project(s) and their labels are safe in this browser's storage; reload the page to try again.`,
    );
    $('engine').textContent = 'not loaded';
    return;
  }
  const projects = await listProjects(db);
  const last = await getMeta<string>(db, 'lastProject');
  if (projects.length === 0) await addDemo();
  else await open(projects.some((p) => p.id === last) ? last! : projects[0].id);
}

boot().catch((e) => showAlert(`Something went wrong while starting: ${describe(e)}. Stored labels are untouched.`));
