// Answers a tiny JSON for any path: the floor under every edgeshop figure in `npm run bench`.
export default {
  fetch: () => Response.json({ ok: true }),
} satisfies ExportedHandler;
