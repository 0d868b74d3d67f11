// The webview app (three.js); runs in the browser sandbox of a VS Code webview.
export {};
