// Verifies one delivery with the official Standard Webhooks TypeScript library, as docs/webhooks.md shows.
// Input on stdin: {"secret": "whsec_…", "body_base64": "…", "headers": {"webhook-id": "…", …}}.
// Prints "valid", or "invalid: <reason>".
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secret, body_base64, headers } = JSON.parse(input);
try {
  new Webhook(secret).verify(Buffer.from(body_base64, "base64"), headers);
  console.log("valid");
} catch (error) {
  console.log(`invalid: ${error.message}`);
}
