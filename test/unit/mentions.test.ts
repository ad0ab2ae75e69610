import { describe, expect, it } from 'vitest';
import { mentionsAgent } from '#domain/git-claims';

const agent = '@openhands-agent';

describe('agent mentions in Markdown comments', () => {
  it.each([
    ['a plain mention', '@openhands-agent please fix this', true],
    ['a mention in another case', 'Hey @OpenHands-Agent, take a look', true],
    ['a mention after a code block', '```js\nrun()\n```\n@openhands-agent fix it', true],
    ['inline code', 'please `@openhands-agent` here', false],
    ['a fenced code block', '```\n@openhands-agent\n```', false],
    ['a tilde fence', '~~~\n@openhands-agent\n~~~', false],
    ['a quoted line', '> @openhands-agent do it\n\nthanks', false],
    ['an HTML comment', '<!-- @openhands-agent -->', false],
    ['an HTML code element', 'see <code>@openhands-agent</code>', false],
    ['an indented code block', 'example:\n\n    @openhands-agent fix\n\nthanks', false],
    ['an indented list continuation', '- item\n    @openhands-agent fix it', true],
    ['an email address', 'mail bob@openhands-agent.com', false],
    ['a longer handle', '@openhands-agent-two', false],
  ])('%s → %s', (_, text, expected) => {
    expect(mentionsAgent(text, agent)).toBe(expected);
  });
});
