/**
 * Galata configuration for the wheel smoke test (scripts/test_wheel.sh): JupyterLab and
 * the Claude stand-in run from the clean virtual environment the wheel was installed into,
 * with no Node.js on PATH; NBCHAT_IN_CLEAN is the script that runs a command there.
 */
const baseConfig = require('./playwright.config');

const inClean = process.env.NBCHAT_IN_CLEAN;
if (!inClean) {
  throw new Error(
    'NBCHAT_IN_CLEAN is not set: run this through scripts/test_wheel.sh'
  );
}

module.exports = {
  ...baseConfig,
  testDir: './tests/wheel',
  testMatch: '**/*.spec.ts',
  testIgnore: [],
  retries: 0,
  use: { ...baseConfig.use, baseURL: 'http://localhost:8890' },
  webServer: [
    {
      command: `${inClean} python -m jupyter_nbchat.testing.claude_standin --port 8785`,
      url: 'http://127.0.0.1:8785/_standin/health',
      timeout: 60 * 1000,
      reuseExistingServer: false
    },
    {
      command: `${inClean} jupyter lab --config tests/wheel/jupyter_server_config.py`,
      url: 'http://localhost:8890/lab',
      timeout: 120 * 1000,
      reuseExistingServer: false
    }
  ]
};
