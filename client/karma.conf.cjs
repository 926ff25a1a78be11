// Karma config for `ng test` (builder @angular/build:karma).
// The builder bundles the specs with esbuild and adds its own plugins, so only
// the test framework, the browser launcher and the reporters are set here.
// Browser: process.env.CHROME_BIN, else the Debian chromium at /usr/bin/chromium.
// singleRun: the builder sets it from --watch (`ng test --watch=false` runs once);
// CI=1 also runs once when the config is used outside that flag.

process.env.CHROME_BIN ||= '/usr/bin/chromium';

module.exports = function (config) {
  config.set({
    basePath: '',
    frameworks: ['jasmine'],
    plugins: [require('karma-jasmine'), require('karma-chrome-launcher')],
    client: {
      jasmine: {
        random: true,
      },
    },
    reporters: ['progress'],
    browsers: ['ChromeHeadlessJmqt'],
    customLaunchers: {
      // Headless Chromium for containers and CI: no sandbox (often root), no GPU,
      // no /dev/shm (small in containers), and no background network traffic.
      ChromeHeadlessJmqt: {
        base: 'ChromeHeadless',
        flags: [
          '--no-sandbox',
          '--headless',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      },
    },
    // Chromium can take a while to start on a cold container.
    captureTimeout: 120000,
    browserNoActivityTimeout: 60000,
    browserDisconnectTolerance: 1,
    singleRun: Boolean(process.env.CI),
    restartOnFileChange: true,
  });
};
