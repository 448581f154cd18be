// `npm start` runs this first: builds the web app (web/dist) and the server (dist/start) when either is missing or
// older than its sources.
import { buildServer, serverBuildIsStale } from './build-server.js';
import { buildWeb, webBuildIsStale } from './build-web.js';

if (webBuildIsStale()) {
  console.log('Building the web app (web/dist)…');
  await buildWeb();
  console.log('Web app built.');
}
if (serverBuildIsStale()) await buildServer();
