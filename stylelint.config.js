/**
 * Stylelint: the JupyterLab extension template's rules for style/*.css.
 */
module.exports = {
  extends: [
    'stylelint-config-recommended',
    'stylelint-config-standard',
    'stylelint-prettier/recommended'
  ],
  plugins: ['stylelint-csstree-validator'],
  rules: {
    'csstree/validator': true,
    'property-no-vendor-prefix': null,
    'selector-class-pattern': '^([a-z][A-z\\d]*)(-[A-z\\d]+)*$',
    'selector-no-vendor-prefix': null,
    'value-no-vendor-prefix': null,
    // Rules are ordered by component, and reordering them to satisfy it would change the cascade (JupyterLab disables it too).
    'no-descending-specificity': null
  }
};
