# One image for both Parley processes: the API (`npm start`) and the LiveKit agent worker
# (`npm run agent`). docker-compose.yml picks the command.
FROM node:20-bookworm-slim

# pocketsphinx: the offline speech-to-text the agent falls back to without an OpenAI key.
RUN apt-get update \
  && apt-get install -y --no-install-recommends pocketsphinx pocketsphinx-en-us \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
# .npmrc: onnxruntime-node (Silero VAD) skips its optional GPU download, as on any install.
COPY .npmrc package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# DATA_DIR (.data): the API's development signing key, and the embedded database when no
# DATABASE_URL is set.
RUN mkdir -p .data && chown node:node .data
USER node

EXPOSE 8000
CMD ["npm", "start"]
