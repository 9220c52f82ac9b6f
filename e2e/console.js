// Browser test of the web console (headless Chromium through playwright-core), run by
// scripts/e2e-console.sh: sign in, create a Salesforce connection to the mock org and check
// it, create a rotation with the form (connection, then its External Client Apps), rotate now
// and see the new run, switch auto-rotation, delete the rotation, sign out.
// The mock org's URL and the connector app's key and secret come in E2E_INSTANCE_URL,
// E2E_CONSUMER_KEY and E2E_CONSUMER_SECRET. Screenshots of every page at laptop
// and phone width go to the output folder.
//   node e2e/console.js BASE_URL CLIENT_ID CLIENT_SECRET OUT_DIR
const { chromium } = require('playwright-core');

const [base, clientId, clientSecret, out] = process.argv.slice(2);

function check(condition, what) {
  if (!condition) throw new Error(`console e2e: ${what}`);
}

async function flow(browser, device, viewport) {
  const page = await browser.newPage({ viewport });
  const shot = async (name) => page.screenshot({ path: `${out}/${device}-${name}.png`, fullPage: true });

  await page.goto(`${base}/`);
  check(page.url().endsWith('/console/sign-in'), `/ leads to sign-in, got ${page.url()}`);
  await shot('1-sign-in');
  await page.fill('#clientId', clientId);
  await page.fill('#clientSecret', 'not-the-secret');
  await page.click('button[type=submit]');
  check((await page.textContent('p.error')).includes('do not match'), 'a wrong secret is explained');
  await page.fill('#clientId', clientId);
  await page.fill('#clientSecret', clientSecret);
  await page.click('button[type=submit]');
  await page.waitForURL('**/console/projects');
  await shot('2-projects');

  await page.click('text=Billing');
  if (device === 'laptop') {
    check((await page.textContent('main')).includes('No rotations here.'), 'no rotation yet');
    await page.click('.links >> text=Connections');
    await page.fill('#salesforce-name', 'demo-org');
    await page.fill('#salesforce-instanceUrl', process.env.E2E_INSTANCE_URL);
    await page.fill('#salesforce-consumerKey', process.env.E2E_CONSUMER_KEY);
    await page.fill('#salesforce-consumerSecret', process.env.E2E_CONSUMER_SECRET);
    await page.click('details:has(#salesforce-instanceUrl) >> button:text("Create connection")');
    await page.waitForURL('**done=created');
    await page.click('button:text("Check")');
    await page.waitForURL('**done=checked**');
    check((await page.textContent('p.notice')).includes('The connection works'), 'the connection checks out');
    await shot('3c-connections');
    await page.click('.crumbs >> text=Billing');
    await page.click('text=New Salesforce rotation');
    await shot('3a-new-rotation');
    await page.click('button:text("List its External Client Apps")');
    const billing = await page.locator('#app option', { hasText: 'Billing_Sync' }).getAttribute('value');
    await page.selectOption('#app', billing);
    await page.fill('#name', 'my-salesforce-rotation');
    await page.fill('#description', 'Salesforce ECA consumer secret rotation');
    await shot('3b-new-rotation-filled');
    await page.click('button:text("Create rotation")');
    await page.waitForURL('**done=created');
    check((await page.textContent('p.notice')).startsWith('Created'), 'creating says so');
    await page.click('text=Rotations');
  }
  check((await page.textContent('table')).includes('my-salesforce-rotation'), 'the rotation is listed');
  await shot('3-rotations');

  await page.click('text=my-salesforce-rotation');
  const runs = async () => page.locator('section.card:has(h2:text("Run history")) tbody tr').count();
  const before = await runs();
  await shot('4-rotation');
  await page.click('button:text("Rotate now")');
  await page.waitForURL('**done=rotated');
  check((await page.textContent('p.notice')).startsWith('Rotated'), 'rotating says so');
  check((await runs()) === before + 1, 'the new run is in the history');
  check((await page.textContent('tbody tr:first-child')).includes('manual'), 'the newest run is the manual one');
  await shot('5-rotated');

  await page.click('button:text("Disable auto-rotation")');
  await page.waitForURL('**done=auto-off');
  check(await page.isVisible('button:text("Enable auto-rotation")'), 'auto-rotation can be enabled again');
  await page.click('button:text("Enable auto-rotation")');
  await page.waitForURL('**done=auto-on');
  await shot('6-auto-rotation');
  await page.close();
}

(async () => {
  // The flags keep Chromium off the network it would otherwise call on start (closed here).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await flow(browser, 'laptop', { width: 1280, height: 800 });
    await flow(browser, 'phone', { width: 390, height: 844 });
    // Last, at laptop width: delete and sign out.
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/console/sign-in`);
    await page.fill('#clientId', clientId);
    await page.fill('#clientSecret', clientSecret);
    await page.click('button[type=submit]');
    await page.waitForURL('**/console/projects');
    await page.click('text=Billing');
    await page.click('text=my-salesforce-rotation');
    await page.check('input[name=deleteSecrets]');
    await page.click('button:text("Delete rotation")');
    await page.waitForURL('**done=deleted');
    check((await page.textContent('p.notice')) === 'Rotation deleted.', 'deleting says so');
    check((await page.textContent('main')).includes('No rotations here.'), 'the rotation is gone');
    await page.screenshot({ path: `${out}/laptop-7-deleted.png`, fullPage: true });
    await page.click('button:text("Sign out")');
    await page.waitForURL('**/console/sign-in');
    await page.goto(`${base}/console/projects`);
    check(page.url().endsWith('/console/sign-in'), 'signed out: pages lead to sign-in');
    console.log(`console e2e: passed; screenshots in ${out}`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message || e); process.exit(1); });
