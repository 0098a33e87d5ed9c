/**
 * Galata with jupyter-collaboration installed: real JupyterLab from .venv-collab
 * (scripts/setup_collab.sh), two pages on one notebook. Same ports as the main
 * suite (run it after, never beside it).
 */
const base = require('./playwright.config');

const VENV = '../.venv-collab/bin';

module.exports = {
  ...base,
  testDir: './tests/collab',
  testIgnore: [],
  webServer: [
    {
      command: `${VENV}/python -m jupyter_nbchat.testing.claude_standin --port 8775`,
      url: 'http://127.0.0.1:8775/_standin/health',
      timeout: 60 * 1000,
      reuseExistingServer: false
    },
    {
      // The room store in a fresh folder, not the working directory.
      command: `${VENV}/jupyter lab --config jupyter_server_test_config.py --SQLiteYStore.db_path=$(mktemp -d)/ystore.db`,
      url: 'http://localhost:8888/lab',
      timeout: 120 * 1000,
      reuseExistingServer: false
    }
  ]
};
