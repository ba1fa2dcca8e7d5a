// Validate a GLB with the Khronos glTF-Validator; prints the report's issue summary as JSON.
// Usage: node validate-gltf.js FILE.glb
const fs = require('fs');
const validator = require('gltf-validator');

const path = process.argv[2];
const data = new Uint8Array(fs.readFileSync(path));
validator
  .validateBytes(data, { maxIssues: 100, writeTimestamp: false })
  .then((report) => {
    console.log(JSON.stringify({
      numErrors: report.issues.numErrors,
      numWarnings: report.issues.numWarnings,
      numInfos: report.issues.numInfos,
      messages: report.issues.messages.filter((m) => m.severity <= 1),
    }));
  })
  .catch((e) => {
    console.error(String(e));
    process.exit(2);
  });
