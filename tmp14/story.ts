import { runConceptDriftStory } from '../local/demo/concept-drift.ts';
const started = Date.now();
const root = new URL('..', import.meta.url).pathname;
const r = await runConceptDriftStory({ root, out: '/tmp/cd-out', log: (l) => console.log(`[${((Date.now()-started)/1000).toFixed(1)}] ${l}`) });
const { timeline, ...rest } = r;
console.log(JSON.stringify(rest, null, 1));
