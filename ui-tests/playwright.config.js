/**
 * Galata configuration: real JupyterLab with jupyter-nbchat, in Debian's
 * Chromium, against the Claude and E2B stand-ins (no network peer is real).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  // These run against other servers: the installed wheel (playwright.wheel.config.js),
  // JupyterLab with jupyter-collaboration (playwright.collab.config.js).
  // The Notebook 7 specs run against `jupyter notebook` (playwright.notebook7.config.js).
  testIgnore: ['**/wheel/**', '**/collab/**', '**/notebook7/**'],
  // Two cores: one worker keeps the server and the kernel responsive.
  workers: 1,
  use: {
    ...baseConfig.use,
    baseURL: 'http://localhost:8888',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-dev-shm-usage',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    },
    // Video needs Playwright's own ffmpeg download, which fails here.
    video: 'off',
    trace: 'retain-on-failure'
  },
  webServer: [
    {
      command: 'python -m jupyter_nbchat.testing.claude_standin --port 8775',
      url: 'http://127.0.0.1:8775/_standin/health',
      timeout: 60 * 1000,
      reuseExistingServer: !process.env.CI
    },
    {
      // The E2B cloud, backed by local kernels (sandbox_id, files, copy-back).
      command: 'python -m jupyter_nbchat.testing.e2b_standin --port 8776',
      url: 'http://127.0.0.1:8776/_standin/health',
      timeout: 60 * 1000,
      reuseExistingServer: !process.env.CI
    },
    {
      command: 'jlpm start',
      url: 'http://localhost:8888/lab',
      timeout: 120 * 1000,
      reuseExistingServer: !process.env.CI
    }
  ]
};
