import { describe, expect, it } from 'vitest';
import { renderComment, renderReport, renderWorkflows } from '../../src/action/report/render.js';
import { RunFailedError } from '../../src/errors.js';
import { redact } from '../../src/redaction.js';
import { deploymentUrl, flowRunUrl } from '../../src/orchestrators/prefect/urls.js';
import type { PipelineResult } from '../../src/pipeline.js';
import { ciContext } from '../helpers/services.js';
import { html, injectedMarkup, visibleText } from './markdown-check.js';

// Issue 19, "untrusted text becomes markup": what an orchestrator server, an event payload or
// a run's output says is shown in the PR comment and the job summary as text. Each report is
// rendered the way GitHub renders it (GitHub-flavoured Markdown: tables, autolinks) and the
// HTML is searched for what the attacker tried to add (markdown-check.ts).

const UI = 'https://prefect.example.com';
const ci = ciContext({ sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', shortSha: 'a1b2c3d', repository: 'acme/quickstart', runId: '9001', runNumber: '12' });
const EVIL = 'evil.example';


const base: PipelineResult = {
  orchestrator: 'PrefectOrchestrator',
  runNoun: 'flow run',
  deploymentName: 'quickstart',
  steps: [
    { step: 'deploy', status: 'success', durationMs: 1_000, detail: 'deployment hello/quickstart' },
    { step: 'run', status: 'success', durationMs: 400, detail: 'flow run started' },
    { step: 'wait', status: 'success', durationMs: 9_000, detail: 'final state COMPLETED' },
  ],
  deployment: { id: 'd-1', name: 'hello/quickstart', url: deploymentUrl(UI, 'd-1') },
  run: { id: 'r-1', url: flowRunUrl(UI, 3, 'r-1'), state: 'COMPLETED', created: true },
};

describe('untrusted text in the PR comment and the job summary', () => {
  it("a server's run id cannot add an image or a link: it stays the label and one path segment of the link", () => {
    const id = `r-1)![pwned](https://${EVIL}/pixel.png)[sign in](https://${EVIL}/login`;
    const result: PipelineResult = { ...base, run: { id, url: flowRunUrl(UI, 3, id), state: 'COMPLETED', created: true } };
    const comment = renderComment({ result, ci });
    expect(injectedMarkup([UI, 'https://github.com/acme/quickstart/'], comment)).toEqual([]);
    const links = [...html(comment).matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].filter(([, href]) => href!.includes('/runs/flow-run/'));
    expect(links).toHaveLength(1);
    expect(decodeURIComponent(new URL(links[0]![1]!.replace(/&amp;/g, '&')).pathname.split('/').pop()!)).toBe(id);
    expect(visibleText(links[0]![2]!).replace(/\u200d/g, '')).toBe(id);
  });

  it("a server's state message (a step's detail, the error) cannot add images, links, HTML, mentions or references", () => {
    const message =
      `Crashed | ![x](https://${EVIL}/x.png) [docs](https://${EVIL}/phish) <img src=x onerror=alert(1)> <script>alert(1)</script> ` +
      `ping @acme/admins and @octocat, closes #1, see https://${EVIL}/help or www.${EVIL}\n\n# heading`;
    const result: PipelineResult = {
      ...base,
      steps: [...base.steps.slice(0, 2), { step: 'wait', status: 'failed', durationMs: 9_000, detail: `flow run ended CRASHED: ${message}` }],
      run: { ...base.run!, state: 'CRASHED' },
      error: new RunFailedError(`Flow run r-1 ended CRASHED: ${message}`),
    };
    for (const markdown of [renderReport({ result, ci }), renderComment({ result, ci })]) {
      expect(injectedMarkup([UI, 'https://github.com/acme/quickstart/'], markdown)).toEqual([]);
      // Shown as written: the reader still sees every character the server sent.
      expect(visibleText(html(markdown)).replace(/\u200d/g, '')).toContain('<script>alert(1)</script> ping @acme/admins and @octocat, closes #1');
      // The table keeps its four columns: the message's pipe is not a column.
      expect(html(markdown).match(/<tr>[\s\S]*?<\/tr>/g)!.every((row) => row.match(/<t[dh]\b/g)!.length === 4)).toBe(true);
    }
  });

  it('a branch name with backticks stays inside its code span', () => {
    const branch = 'x`` ![pwned](https://evil.example/b.png) ``y';
    const markdown = renderReport({ result: base, ci, preview: { kind: 'branch', branch, closed: false } });
    expect(injectedMarkup([UI, 'https://github.com/acme/quickstart/'], markdown)).toEqual([]);
    const codes = [...html(markdown).matchAll(/<code>([^<]*)<\/code>/g)].map(([, c]) => visibleText(c!));
    expect(codes).toContain(branch);
  });

  it('a note naming a branch from the event payload is text, not markup', () => {
    const note = `Branch ![pwned](https://${EVIL}/n.png)<img src=x> is not the production branch (main): deploying its preview`;
    const markdown = renderReport({ result: base, ci, notes: [note] });
    expect(injectedMarkup([UI, 'https://github.com/acme/quickstart/'], markdown)).toEqual([]);
    expect(visibleText(html(markdown))).toContain(`Branch ![pwned](https:\u200d//${EVIL}/n.png)<img src=x> is not`);
  });

  it('in the table of several workflows, run ids, states, names and errors from servers are text', () => {
    const id = `r-2](https://${EVIL})![x](https://${EVIL}/w.png)`;
    const result: PipelineResult = { ...base, run: { id, url: flowRunUrl(UI, 3, id), state: 'COMPLETED', created: true } };
    const markdown = renderWorkflows({
      outcomes: [
        { file: '/w/a.yaml', name: 'a', status: 'succeeded', result },
        { file: '/w/b`|.yaml', name: `b <img src=x> @octocat`, status: 'failed', error: new Error(`![x](https://${EVIL}/e.png) #2`) },
      ],
      ci,
      workdir: '/w',
    });
    expect(injectedMarkup([UI, 'https://github.com/acme/quickstart/'], markdown)).toEqual([]);
    expect(html(markdown).match(/<tr>[\s\S]*?<\/tr>/)![0]!.match(/<th\b/g)).toHaveLength(7);
    for (const row of html(markdown).match(/<tbody>[\s\S]*?<\/tbody>/)![0]!.match(/<tr>[\s\S]*?<\/tr>/g)!) expect(row.match(/<td\b/g)).toHaveLength(7);
  });

  it('a secret escaped for Markdown is still redacted: the report redacts each value before escaping it', () => {
    // A generated password: `@` gets a zero-width joiner, `<` and `&` become references when escaped.
    const secret = 'p@ss<w>rd&#1';
    const hide = (value: string) => redact(value, [secret]);
    const result: PipelineResult = { ...base, error: new RunFailedError(`Flow run r-1 ended FAILED: login as admin:${secret} refused`) };
    // As the action writes it: rendered with the redaction, then the whole report redacted again.
    const markdown = hide(renderReport({ result, ci, redact: hide }));
    const shown = visibleText(html(markdown)).replace(/\u200d/g, '');
    expect(shown).toContain('login as admin:*** refused');
    expect(shown).not.toContain(secret);
  });
});
