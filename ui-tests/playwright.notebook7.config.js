/**
 * Playwright configuration for Notebook 7 (scripts/test_notebook7.sh): `jupyter notebook`
 * with jupyter-nbchat on port 8891 and the Claude stand-in on port 8795, in Debian's
 * Chromium. Galata's fixtures assume JupyterLab, so these specs use plain @playwright/test.
 * Ports differ from the main Galata run (8888/8775/8776): both may run on one machine.
 */
const { defineConfig } = require('@playwright/test');

module.exports = defineConfig({
  testDir: './tests/notebook7',
  testMatch: '**/*.spec.ts',
  reporter: [['list']],
  // Apart from the main run's test-results, which each run of it empties.
  outputDir: 'test-results-notebook7',
  // Two cores: one worker keeps the server and the kernel responsive.
  workers: 1,
  retries: 0,
  timeout: 120 * 1000,
  use: {
    baseURL: 'http://localhost:8891',
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
      command: 'python -m jupyter_nbchat.testing.claude_standin --port 8795',
      url: 'http://127.0.0.1:8795/_standin/health',
      timeout: 60 * 1000,
      reuseExistingServer: false
    },
    {
      command:
        'jupyter notebook --config tests/notebook7/jupyter_server_config.py',
      url: 'http://localhost:8891/tree',
      timeout: 120 * 1000,
      reuseExistingServer: false
    }
  ]
});
