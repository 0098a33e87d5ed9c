/**
 * ESLint for src/ (TypeScript): the JupyterLab extension template's rules.
 */
module.exports = {
  extends: [
    'eslint:recommended',
    'plugin:@typescript-eslint/eslint-recommended',
    'plugin:@typescript-eslint/recommended',
    'plugin:prettier/recommended'
  ],
  parser: '@typescript-eslint/parser',
  parserOptions: {
    project: 'tsconfig.json',
    sourceType: 'module'
  },
  plugins: ['@typescript-eslint'],
  ignorePatterns: [
    'node_modules',
    'dist',
    'coverage',
    'lib',
    '**/*.d.ts',
    // Jest specs sit outside tsconfig.json's project, Galata's in ui-tests (as in the template).
    '**/__tests__',
    'ui-tests',
    'jupyter_nbchat',
    'bench',
    'docs',
    '.venv'
  ],
  rules: {
    '@typescript-eslint/naming-convention': [
      'error',
      {
        selector: 'interface',
        format: ['PascalCase'],
        custom: {
          regex: '^I[A-Z]',
          match: true
        }
      }
    ],
    '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
    // Wire payloads (JSON from the server, kernel messages) are typed `any` where they are parsed.
    '@typescript-eslint/no-explicit-any': 'off',
    // Lumino style: `namespace Private`, `namespace CommandIDs` (as in the template).
    '@typescript-eslint/no-namespace': 'off',
    // Helpers sit below the code that reads them, in a `Private` namespace (as in the template).
    '@typescript-eslint/no-use-before-define': 'off',
    curly: ['error', 'all'],
    eqeqeq: 'error',
    'prefer-arrow-callback': 'error'
  }
};
