// Two turns with the AI SDK through the proxy: generateText, then streamText with the history.
// Usage: node ai_sdk_session.mjs <openai-chat|openai-responses|anthropic> <proxy base URL>
// Prints one JSON line: each turn's text and usage as the SDK reports them.
// The packages live in .clients/node_modules (scripts/setup-test-env.sh), found from CLIENTS_DIR.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.CLIENTS_DIR, 'package.json'));
const { generateText, streamText } = require('ai');
const { createOpenAI } = require('@ai-sdk/openai');
const { createAnthropic } = require('@ai-sdk/anthropic');

const [kind, base] = process.argv.slice(2);
let model;
if (kind === 'anthropic') {
  model = createAnthropic({ baseURL: `${base}/v1`, apiKey: 'sk-ant-test-client-key-1' })('claude-sonnet-4-6');
} else {
  const openai = createOpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-test-client-key-1' });
  model = kind === 'openai-chat' ? openai.chat('gpt-4o') : openai('gpt-4o');
}

const system = process.env.SYSTEM_PROMPT;
const messages = [{ role: 'user', content: 'say hi' }];
const first = await generateText({ model, system, messages, maxRetries: 0 });
messages.push(...first.response.messages, { role: 'user', content: 'say bye' });
const second = streamText({ model, system, messages, maxRetries: 0 });
let streamed = '';
for await (const delta of second.textStream) streamed += delta;
console.log(
  JSON.stringify({
    turns: [
      { text: first.text, usage: first.usage },
      { text: streamed, usage: await second.usage },
    ],
  }),
);
