# The shop for the distributed profile (docker compose up); it runs against external services.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY tsconfig.json ./
COPY src ./src
USER node
ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main.ts"]
