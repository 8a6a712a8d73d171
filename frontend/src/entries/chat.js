// Conversation page (templates/chat/conversation.html).
import { ChatPage } from "../chat/client.js";

const page = new ChatPage(document);
page.start();
window.__chatPage = page; // for the browser test and debugging
